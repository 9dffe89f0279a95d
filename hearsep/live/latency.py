"""End-to-end latency: the budget computed from its parts, and a click measured through a loopback.

The budget of the digital loopback (probe out -> runner in, runner out -> probe in, all JACK
client ports) is the sum of

- **algorithmic**: the enhancer's delay, model framing and hop buffering (``contract.latency_samples``,
  see ``hearsep/model/CONTRACT.md``) plus the chain's limiter look-ahead;
- **resampling**: the two streaming resamplers' filter delays when the device rate is not the
  model's (:class:`hearsep.audio.resample.StreamingResampler`, whole samples by design);
- **buffering**: one block period: a block's first sample waits for the whole block before the
  callback sees it. On the loopback the runner and the probe are two streams of one JACK client
  (PortAudio's), which reads its input ports before writing its output ports in a cycle, so what
  goes round the loop arrives one cycle later (observed with jackd2 1.9.21 in either stream
  order; the loopback test fails if a server version behaves otherwise);
- **server**: the latency JACK reports on the path's ports (``jack_lsp -l``): 0 between client
  ports; through ``system`` ports the driver's capture and playback latency.

:func:`measure_loopback_latency` plays clicks through the runner with the probe and finds each
click's peak in the recording; on a digital loopback it must equal the budget to the sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hearsep.errors import LiveAudioError
from hearsep.live.callback import LiveProcessor
from hearsep.live.stream import LoopbackProbe, run_loopback
from hearsep.live.summary import LiveSummary


def click_train(rate_hz: int, clicks: int = 4, first_s: float = 0.5, spacing_s: float = 0.25,
                amplitude: float = 0.5, tail_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """``(signal, click_positions)``: single-sample clicks of ``amplitude`` (linear, full scale 1.0),
    the first at ``first_s`` and then every ``spacing_s`` seconds, followed by ``tail_s`` of silence."""
    first, spacing = int(round(first_s * rate_hz)), int(round(spacing_s * rate_hz))
    positions = first + spacing * np.arange(clicks)
    signal = np.zeros(int(positions[-1] + max(spacing, round(tail_s * rate_hz))), np.float32)
    signal[positions] = amplitude
    return signal, positions


def click_delays(recorded: np.ndarray, positions: np.ndarray, max_delay_samples: int) -> np.ndarray:
    """For each click at ``positions``, the lag (samples) of the largest ``|recorded|`` within
    ``[position, position + max_delay_samples)``; -1 where that window is silent."""
    delays = np.full(len(positions), -1, np.int64)
    for k, p in enumerate(positions):
        window = np.abs(recorded[p:p + max_delay_samples])
        if window.size and window.max() > 0:
            delays[k] = int(np.argmax(window))
    return delays


@dataclass(frozen=True)
class LoopbackLatency:
    """A loopback measurement: the measured delay, the budget it should equal and its parts (ms)."""

    rate_hz: int
    measured_samples: int
    expected_samples: int
    click_delays_samples: tuple[int, ...]
    algorithmic_ms: float
    resampling_ms: float
    buffering_ms: float
    server_ms: float
    summary: LiveSummary

    @property
    def measured_ms(self) -> float:
        return 1000.0 * self.measured_samples / self.rate_hz

    @property
    def expected_ms(self) -> float:
        return 1000.0 * self.expected_samples / self.rate_hz

    @property
    def agrees(self) -> bool:
        """Measured equals expected to the sample, for every click."""
        return all(d == self.expected_samples for d in self.click_delays_samples)

    def as_dict(self) -> dict:
        return {"measured_ms": self.measured_ms, "expected_ms": self.expected_ms,
                "algorithmic_ms": self.algorithmic_ms, "buffering_ms": self.buffering_ms,
                "resampling_ms": self.resampling_ms, "server_ms": self.server_ms,
                "measured_samples": self.measured_samples, "expected_samples": self.expected_samples,
                "click_delays_samples": list(self.click_delays_samples), "rate_hz": self.rate_hz,
                "period_frames": self.summary.period_frames, "agrees": self.agrees,
                "blocks": self.summary.blocks, "safe_blocks": self.summary.safe_blocks, "xruns": self.summary.xruns}


def measure_loopback_latency(processor: LiveProcessor, *, clicks: int = 4, spacing_s: float = 0.25,
                             amplitude: float = 0.5, stop=None) -> LoopbackLatency:
    """Play ``clicks`` clicks through ``processor`` on a JACK loopback and time their return.

    The measured value is the median click delay (all of them must agree for :attr:`agrees`).
    Raises :class:`LiveAudioError` when no click comes back.
    """
    rate = processor.device_rate_hz
    signal, positions = click_train(rate, clicks=clicks, spacing_s=spacing_s, amplitude=amplitude)
    probe = LoopbackProbe(signal)
    summary, path = run_loopback(processor, probe, stop=stop)
    if not probe.finished:
        raise LiveAudioError(f"the loopback stopped early ({summary.ended}) after {probe.position} of "
                             f"{signal.shape[0]} samples")
    delays = click_delays(probe.recorded, positions, int(round(spacing_s * rate)))
    if np.any(delays < 0):
        raise LiveAudioError("no click came back through the loopback (are the JACK ports connected?)")
    period = summary.period_frames
    expected = processor.latency_samples + period + path["server_frames"]
    return LoopbackLatency(rate_hz=rate, measured_samples=int(np.median(delays)), expected_samples=int(expected),
                           click_delays_samples=tuple(int(d) for d in delays),
                           algorithmic_ms=1000.0 * processor.algorithmic_samples / processor.model_rate_hz,
                           resampling_ms=processor.resampling_ms, buffering_ms=1000.0 * period / rate,
                           server_ms=1000.0 * path["server_frames"] / rate, summary=summary)
