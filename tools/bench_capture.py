"""Measure audio capture through the emulator over a paced pty.

    python tools/bench_capture.py [--seconds 10] [--baud 921600 460800]

For each baud rate: samples expected/received/lost, blocks the device dropped, bad frames and the
received byte rate. The emulator paces its output like a UART (10 bits per byte).
"""

from __future__ import annotations

import argparse

from firmware_bridge import Client, Emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baud", type=int, nargs="+", default=[921_600, 460_800])
    args = parser.parse_args()
    for baud in args.baud:
        with Emulator(baudrate=baud) as emu, Client(emu.port, baudrate=baud) as dev:
            cap = dev.capture(args.seconds)
        print(f"baud {baud}: link {baud / 10 / 1000:.1f} kB/s; expected {cap.samples_expected} samples (in+out), "
              f"received {cap.samples_received}, lost {cap.lost_samples} ({100 * cap.loss_ratio:.2f} %), "
              f"device dropped {cap.device_blocks_dropped} blocks, bad frames {cap.bad_frames}, "
              f"{cap.rx_bytes_per_s / 1000:.1f} kB/s received over {cap.elapsed_s:.2f} s")


if __name__ == "__main__":
    main()
