"""A virtual hearing aid behind a real pseudo-terminal.

The emulator runs :class:`~firmware_bridge.device.DeviceModel` in a thread on the master side of
``os.openpty()``; hosts open the slave path (:attr:`Emulator.port`) with pyserial exactly as they
would open ``/dev/ttyACM0``. A pty has no baud rate, so the emulator paces what it sends like a
UART at ``baudrate`` (10 bit times per byte, 8N1): a frame is handed to the pty only when the
previous one would have finished on the wire. Audio capture is produced in real time at 16 kHz
into a bounded transmit queue of ``audio_queue_blocks`` blocks; while that queue is full (the link
cannot keep up) new blocks are dropped and counted, as firmware would.
Host -> device bytes are not paced (requests are small).

Everything the emulator "measures" is synthetic: telemetry is a formula of time and state (see
:meth:`Emulator._sensors`) and capture audio is two tones plus noise, amplified by the static
input/output curves of the active slot's preset (:meth:`Emulator.gain_db`), not by the real chain.
Its HELLO reply sets :attr:`~firmware_bridge.messages.Capability.EMULATED` so hosts can label those
values as emulated.

Presets: at PRESET_COMMIT the emulated device runs the host's validator
(:func:`firmware_bridge.preset.validate_preset`, i.e. :func:`hearsep.fitting.loads_preset`) on
the staged bytes and refuses what the host would refuse (NACK ``BAD_PRESET``, the host's message
as reply data, old preset kept). It is the reference validator of the protocol: the C reference
(``firmware/``) checks framing, size and CRC only.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import select
import threading
import time
import tty

import numpy as np

from firmware_bridge import messages as m
from firmware_bridge.device import CAPTURE_BLOCK_SAMPLES, DeviceConfig, DeviceModel
from firmware_bridge.errors import PresetError
from firmware_bridge.messages import MsgType
from firmware_bridge.preset import validate_preset
from hearsep.chain.curves import band_for_frequency, band_output_db_spl
from hearsep.chain.params import ChainParams

#: emulated capture input: (frequency Hz, amplitude re full scale) of its two tones, and the noise's RMS
CAPTURE_TONES = ((440.0, 0.1), (1000.0, 0.05))
CAPTURE_NOISE_RMS = 0.01
#: level of a full-scale sine (dB SPL) used for the capture input when the slot holds no preset
DEFAULT_FULL_SCALE_DB_SPL = 110.0


class Emulator:
    """Context manager: ``with Emulator() as emu: Client(emu.port)``.

    ``baudrate`` paces device -> host bytes (None: unpaced). ``tx_fault`` (tests) may rewrite
    each outgoing frame's bytes before they reach the pty, e.g. to corrupt a reply.
    """

    def __init__(self, baudrate: int | None = 921_600, config: DeviceConfig | None = None,
                 audio_queue_blocks: int = 16, seed: int = 0, tx_fault=None):
        self.baudrate = baudrate
        self.start_s = time.monotonic()
        config = config or DeviceConfig(name="hearsep-emulator")
        config = dataclasses.replace(config, capabilities=config.capabilities | m.Capability.EMULATED)
        self.device = DeviceModel(config, sensors=self._sensors, clock_ms=self._uptime_ms,
                                  preset_check=self._check_preset)
        self._fitted: dict[bytes, ChainParams] = {}  # preset bytes -> resolved base settings
        self.audio_queue_blocks = audio_queue_blocks
        self.tx_fault = tx_fault
        self.tx_bytes = 0
        self._rng = np.random.default_rng(seed)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self.port = ""
        self.error: BaseException | None = None

    # -- lifetime ---------------------------------------------------------------------
    def start(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)  # the emulator keeps the slave open so hosts may reconnect
        os.set_blocking(self._master, False)
        self._wake_r, self._wake_w = os.pipe()
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name="hearsep-emulator", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        self._thread = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until :meth:`stop` or KeyboardInterrupt (used by ``hearsep device emulate``)."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.2)
        finally:
            self.stop()

    # -- what the virtual device measures and produces -----------------------------------
    def _uptime_ms(self) -> int:
        return int((time.monotonic() - self.start_s) * 1000)

    def _sensors(self, dev: DeviceModel) -> m.Telemetry:
        """Synthetic telemetry (emulated, not measured): load 42 +- 3 % (+15 % while capturing),
        battery falling 1 mV a minute from 3950 mV, current rising 20 uA per dB of volume."""
        t_s = time.monotonic() - self.start_s
        load = 420 + int(30 * math.sin(t_s)) + (150 if dev.capture else 0)
        return m.Telemetry(load_permille=load, block_time_us=load * 2, underruns=0,
                           overruns=0, battery_mv=max(3300, 3950 - int(t_s / 60)),
                           current_ua=1150 + 20 * (dev.volume_db + 30), temperature_cdeg=3450,
                           uptime_ms=int(t_s * 1000) & 0xFFFFFFFF, program=dev.program,
                           volume_db=dev.volume_db)

    def _check_preset(self, slot: int, blob: bytes) -> str | None:
        """PRESET_COMMIT's content check: None if the host's validator accepts ``blob``, else its message."""
        try:
            preset = validate_preset(blob, self.device.config.preset_max_bytes, source=f"slot {slot}")
        except PresetError as exc:
            return str(exc)
        self._fitted[bytes(blob)] = preset.resolve()
        return None

    def fitting(self) -> ChainParams | None:
        """The resolved base settings of the preset in the active program's slot (None: empty slot)."""
        blob = self.device.presets[self.device.program]
        if blob is None:
            return None
        if blob not in self._fitted:  # put into the slot directly (tests), not through COMMIT
            self._fitted[blob] = validate_preset(blob, self.device.config.preset_max_bytes).resolve()
        return self._fitted[blob]

    def volume_db(self) -> float:
        """Volume applied (dB): the preset's ``volume.default_db`` plus the device's volume step, clipped to
        the preset's ``volume.min_db..max_db`` (the chain's ``set_volume_db``); the step alone without a preset."""
        params = self.fitting()
        if params is None:
            return float(self.device.volume_db)
        v = params.volume_db + self.device.volume_db
        return float(min(max(v, params.volume_min_db), params.volume_max_db))

    def input_db_spl(self, amplitude: float) -> float:
        """Level (dB SPL) of a sine of ``amplitude`` (re full scale) under the active preset's calibration."""
        params = self.fitting()
        full_scale = params.full_scale_db_spl if params is not None else DEFAULT_FULL_SCALE_DB_SPL
        return full_scale + 20 * math.log10(amplitude)

    def gain_db(self, frequency_hz: float = 1000.0, input_db_spl: float = 65.0) -> float:
        """Emulated steady-state gain (dB) for a tone at ``frequency_hz`` and ``input_db_spl``.

        With a preset: the static input/output curve of the band holding ``frequency_hz``
        (:func:`hearsep.chain.curves.band_output_db_spl`: WDRC gain, :meth:`volume_db`, band and
        broadband MPO) minus the input level. Without one: :meth:`volume_db`. No dynamics
        (attack/release), no noise reduction: this is the emulator's stand-in for the chain.
        """
        params = self.fitting()
        if params is None:
            return self.volume_db()
        band = params.bands[int(band_for_frequency(params, frequency_hz))]
        out = band_output_db_spl(band, input_db_spl, self.volume_db(), params.broadband_mpo_db_spl)
        return float(out) - input_db_spl

    def _audio_block(self, first_sample: int, n: int) -> bytes:
        """Input: the :data:`CAPTURE_TONES` plus white noise; output: each tone scaled by its
        :meth:`gain_db` at its level, the noise by the gain of the last (1 kHz) tone, clipped at full scale."""
        sr = self.device.config.sample_rate_hz
        t = (first_sample + np.arange(n)) / sr
        noise = CAPTURE_NOISE_RMS * self._rng.standard_normal(n)
        x, y, gain = noise.copy(), np.zeros(n), 1.0
        for frequency_hz, amplitude in CAPTURE_TONES:
            gain = 10 ** (self.gain_db(frequency_hz, self.input_db_spl(amplitude)) / 20)
            tone = amplitude * np.sin(2 * np.pi * frequency_hz * t)
            x += tone
            y += gain * tone
        y = np.clip(y + gain * noise, -1.0, 1.0)
        pcm_in = np.round(x * 32767).astype("<i2")
        pcm_out = np.round(y * 32767).astype("<i2")
        return m.AUDIO_HEADER.pack(first_sample, n) + pcm_in.tobytes() + pcm_out.tobytes()

    # -- the loop ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced to tests through .error
            self.error = exc

    def _loop(self) -> None:
        dev = self.device
        control: collections.deque[bytes] = collections.deque()  # replies and logs: never dropped
        audio: collections.deque[bytes] = collections.deque()
        out = bytearray()
        tx_free_at = time.monotonic()
        capture = None   # the capture being produced
        finished = None  # a produced capture whose end event may still be queued
        capture_t0 = 0.0
        produced = 0
        block_s = CAPTURE_BLOCK_SAMPLES / dev.config.sample_rate_hz
        while not self._stop.is_set():
            now = time.monotonic()
            # 1. produce capture audio that is due
            if dev.capture is not None and dev.capture is not capture and dev.capture is not finished:
                capture, capture_t0, produced = dev.capture, now + block_s, 0
            if capture is not None:
                while produced < capture.total_samples and now >= capture_t0 + produced / dev.config.sample_rate_hz:
                    n = min(CAPTURE_BLOCK_SAMPLES, capture.total_samples - produced)
                    if len(audio) < self.audio_queue_blocks:
                        audio.append(dev.event(MsgType.EV_AUDIO, self._audio_block(produced, n)))
                        capture.sent_samples += n
                    else:
                        capture.dropped_blocks += 1
                    produced += n
                if produced >= capture.total_samples:
                    end = m.CaptureEnd(capture.total_samples, capture.sent_samples, capture.dropped_blocks)
                    audio.append(dev.event(MsgType.EV_CAPTURE_END, end.pack()))
                    finished, capture = capture, None
            # 2. move one frame to the pty when the paced UART is free
            while (control or audio) and now >= tx_free_at and len(out) < 4096:
                frame = control.popleft() if control else audio.popleft()
                if self.tx_fault is not None:
                    frame = self.tx_fault(frame)
                out += frame
                self.tx_bytes += len(frame)
                if self.baudrate:
                    tx_free_at = max(now, tx_free_at) + len(frame) * 10 / self.baudrate
            if finished is not None and not audio:
                if dev.capture is finished:
                    dev.capture = None  # the end-of-capture event has been sent: ready for the next one
                finished = None
            # 3. wait for input, the writable pty, the next block or the free UART
            timeout = 0.1
            if capture is not None:
                timeout = min(timeout, max(0.0, capture_t0 + produced / dev.config.sample_rate_hz - now))
            if (control or audio) and len(out) < 4096:
                timeout = min(timeout, max(0.0, tx_free_at - now))
            rlist, wlist, _ = select.select([self._master, self._wake_r], [self._master] if out else [], [],
                                            timeout)
            if self._master in rlist:
                try:
                    data = os.read(self._master, 4096)
                except (BlockingIOError, InterruptedError):
                    data = b""
                except OSError:  # EIO: no host has the slave open; the emulator keeps one, so rare
                    data = b""
                    time.sleep(0.01)
                if data:
                    reply = dev.receive(data)
                    if reply:
                        control.append(reply)
                    if dev.events:
                        control.append(dev.drain_events())
            if out and self._master in wlist:
                try:
                    n = os.write(self._master, out)
                    del out[:n]
                except (BlockingIOError, InterruptedError):
                    pass
