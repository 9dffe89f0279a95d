"""Fuzz the Python frame parser with hypothesis at full scale (the test suite runs ~1,500 examples).

    python tools/fuzz_framing.py [N]        # default 100000 random + 100000 corrupted frames

Counts: frames tried, frames accepted, corrupt frames accepted (must be 0), resync failures.
"""

from __future__ import annotations

import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.framing import Frame, FrameReader
from firmware_bridge.testvectors import EDIT_KINDS, corrupt

counts = {"random": 0, "random_accepted": 0, "corrupted": 0, "corrupt_accepted": 0, "intact_accepted": 0,
          "resync_failures": 0}


def main(n: int) -> int:
    cfg = settings(max_examples=n, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))

    @cfg
    @given(st.binary(max_size=1500))
    def random_bytes(data):
        counts["random"] += 1
        counts["random_accepted"] += len(FrameReader().feed(data + b"\x00"))

    frames = st.builds(Frame, type=st.integers(0, 255), seq=st.integers(0, 255), payload=st.binary(max_size=300),
                       flags=st.integers(0, 255), version=st.integers(0, 255))
    edits = st.lists(st.tuples(st.sampled_from(EDIT_KINDS), st.integers(0, 2000),
                               st.integers(0, 255)), min_size=1, max_size=4)

    @cfg
    @given(frames, edits)
    def corrupted(frame, edit_list):
        original = frame.encode()[:-1]
        wire = corrupt(original, edit_list)
        if bytes(wire) == original:
            return
        counts["corrupted"] += 1
        reader = FrameReader()
        for got in reader.feed(bytes(wire) + b"\x00"):
            counts["intact_accepted" if got == frame else "corrupt_accepted"] += 1
        if reader.feed(b"\x00" + frame.encode()) != [frame]:
            counts["resync_failures"] += 1

    t0 = time.monotonic()
    random_bytes()
    corrupted()
    counts["seconds"] = round(time.monotonic() - t0, 1)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 1 if counts["random_accepted"] or counts["corrupt_accepted"] or counts["resync_failures"] else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
