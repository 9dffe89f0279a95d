"""Did a loopback run lose or repeat audio? Checked bit for bit from its recordings.

After :func:`hearsep.live.stream.run_loopback` with a :class:`LoopbackProbe` and a
:class:`LiveProcessor` built with ``record_samples`` (and ``hop_log_hops`` for a model):

1. the runner received the probe's signal whole (after however many blocks of silence came
   before it: ``k0`` samples);
2. it sent exactly what :func:`hearsep.live.callback.replay` computes offline from what it
   received, with the same safe-path hops (pass-through: what it received);
3. the probe received what the runner sent, one period after playing the input (the loopback's
   buffering, see :mod:`hearsep.live.latency`).

A dropped block breaks 1 or 3, a repeated or skipped hop breaks 2 or 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hearsep.live.callback import LiveProcessor, replay


@dataclass(frozen=True)
class Continuity:
    """The three checks (see the module) and how many samples each compared."""

    input_intact: bool
    output_replayed: bool
    returned_intact: bool
    compared_samples: int
    silence_before_samples: int

    @property
    def ok(self) -> bool:
        return self.input_intact and self.output_replayed and self.returned_intact


def check_continuity(processor: LiveProcessor, probe, period_frames: int, fresh_enhancer=None) -> Continuity:
    """Run the checks; ``fresh_enhancer`` is a new enhancer like the processor's (None: pass-through)."""
    at = min(processor.frames, processor.recorded_in.shape[0])
    got, sent = processor.recorded_in[:at], processor.recorded_out[:at]
    signal = probe.signal
    nonzero = np.flatnonzero(got)
    first = int(np.flatnonzero(signal)[0]) if np.any(signal) else 0
    if nonzero.size == 0:
        return Continuity(False, False, False, 0, 0)
    k0 = int(nonzero[0]) - first  # runner sample where the probe's sample 0 arrived
    n = min(signal.shape[0], at - k0, probe.recorded.shape[0])
    if k0 < 0 or n <= period_frames:
        return Continuity(False, False, False, 0, max(k0, 0))
    input_intact = bool(np.array_equal(got[k0:k0 + n], signal[:n]))
    expected = got if fresh_enhancer is None else replay(fresh_enhancer, got, processor.hop_safe_log)
    output_replayed = bool(np.array_equal(sent, expected))
    m = n - period_frames
    returned_intact = bool(np.array_equal(probe.recorded[period_frames:period_frames + m], sent[k0:k0 + m]))
    return Continuity(input_intact, output_replayed, returned_intact, n, k0)
