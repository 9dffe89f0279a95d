#!/usr/bin/env python3
"""Peak memory of ``hearsep enhance`` on a long file: streamed vs the whole-signal path.

Writes a synthetic test file (default 10 minutes of 48 kHz stereo PCM_16: speech-band tones
plus noise; a stand-in for a recording, not speech), then runs, each in its own process:

* ``stream``  ``hearsep enhance IN -o OUT`` (the CLI: soundfile blocks in, blocks out);
* ``whole``   the whole-signal path, the baseline: ``read_audio`` -> ``Enhancer.enhance`` ->
              ``write_audio`` on the whole array.

Peak memory is each child's peak resident set size (``getrusage`` ``ru_maxrss`` via
``os.wait4``, kB on Linux). It prints both peaks, their ratio, the target (150 MB), wall time
and the real-time factor, and compares the two outputs sample by sample (they must be
identical).

    python tools/bench_enhance_memory.py                    # 10 min, 48 kHz, stereo
    python tools/bench_enhance_memory.py --minutes 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_PEAK_MB = 150.0
WHOLE = """
import sys
from hearsep import Enhancer
from hearsep.audio.io import read_audio, write_audio
audio, info = read_audio(sys.argv[1])
y = Enhancer(sample_rate_hz=info.sample_rate_hz, channels=info.channels).enhance(audio)
write_audio(sys.argv[2], y, info.sample_rate_hz, subtype=info.subtype)
"""


def write_test_file(path: Path, minutes: float, rate: int, channels: int, block: int = 1 << 16) -> int:
    """Tones at 300-3000 Hz plus white noise at about -30 dBFS, written block by block."""
    import soundfile as sf

    frames = int(minutes * 60 * rate)
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", rate, channels, "PCM_16") as f:
        for start in range(0, frames, block):
            n = min(block, frames - start)
            t = (start + np.arange(n)) / rate
            tones = sum(0.1 * np.sin(2 * np.pi * hz * t + c) for c, hz in enumerate((300, 1100, 3000)))
            x = tones[:, None] + 0.03 * rng.normal(size=(n, channels))
            f.write(x)
    return frames


def run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; return (peak RSS in MB, wall seconds, exit code)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=REPO)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024.0, time.perf_counter() - t0, p.returncode


def compare(a: Path, b: Path, block: int = 1 << 16) -> tuple[bool, int]:
    """(identical, number of differing samples) of two audio files, read block by block."""
    import soundfile as sf

    differ = 0
    with sf.SoundFile(str(a)) as fa, sf.SoundFile(str(b)) as fb:
        if (fa.frames, fa.channels) != (fb.frames, fb.channels):
            return False, -1
        while True:
            xa, xb = fa.read(block, dtype="int32"), fb.read(block, dtype="int32")
            if len(xa) == 0:
                break
            differ += int(np.count_nonzero(xa != xb))
    return differ == 0, differ


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="length of the test file in minutes (default 10)")
    p.add_argument("--rate", type=int, default=48000, help="sample rate in Hz (default 48000)")
    p.add_argument("--channels", type=int, default=2, help="channels (default 2)")
    p.add_argument("--no-whole", action="store_true", help="skip the whole-signal baseline (and the comparison)")
    p.add_argument("--json", help="write the results here as JSON")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="hearsep-mem-") as tmp:
        tmp = Path(tmp)
        src = tmp / "in.wav"
        frames = write_test_file(src, args.minutes, args.rate, args.channels)
        seconds = frames / args.rate
        res = {"minutes": args.minutes, "rate_hz": args.rate, "channels": args.channels,
               "input_mb": src.stat().st_size / 2 ** 20, "target_peak_mb": TARGET_PEAK_MB}
        rss, wall, code = run_measured([sys.executable, "-m", "hearsep.cli.main", "enhance", str(src), "-o",
                                        str(tmp / "stream.wav"), "--quiet"])
        if code:
            raise SystemExit(f"bench_enhance_memory: hearsep enhance failed (exit {code})")
        res["stream"] = {"peak_rss_mb": rss, "wall_s": wall, "real_time_factor": wall / seconds}
        if not args.no_whole:
            rss, wall, code = run_measured([sys.executable, "-c", WHOLE, str(src), str(tmp / "whole.wav")])
            if code:
                raise SystemExit(f"bench_enhance_memory: the whole-signal path failed (exit {code})")
            res["whole"] = {"peak_rss_mb": rss, "wall_s": wall, "real_time_factor": wall / seconds}
            res["ratio_peak_stream_to_whole"] = res["stream"]["peak_rss_mb"] / rss
            res["identical"], res["differing_samples"] = compare(tmp / "stream.wav", tmp / "whole.wav")
    res["ratio_peak_stream_to_target"] = res["stream"]["peak_rss_mb"] / TARGET_PEAK_MB

    print(f"{args.minutes:g} min of {args.rate} Hz, {args.channels} ch PCM_16 ({res['input_mb']:.0f} MB, synthetic "
          "tones + noise)")
    for name in ("stream", "whole"):
        if name in res:
            r = res[name]
            print(f"{name:<7} peak RSS {r['peak_rss_mb']:7.1f} MB   wall {r['wall_s']:6.1f} s   "
                  f"real-time factor {r['real_time_factor']:.3f}")
    print(f"ratios: stream/target({TARGET_PEAK_MB:.0f} MB) {res['ratio_peak_stream_to_target']:.2f}"
          + (f"; stream/whole {res['ratio_peak_stream_to_whole']:.3f}; outputs identical: {res['identical']} "
             f"({res['differing_samples']} samples differ)" if "whole" in res else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
