"""The live runner's audio callback: a device block in, a device block out, timed and counted.

:class:`LiveProcessor` is the ``sounddevice`` callback (``__call__(indata, outdata, frames,
time_info, status)``) and nothing else: no PortAudio is needed to build, call or test it.

Per call it (1) reads the clock, (2) counts PortAudio's under/overflow flags, (3) runs the
enhancer hop by hop, choosing for each hop between the full path and the safe path from the time
left in the block's budget, (4) writes the callback's duration into a preallocated ring. Device
rates other than the model's go through a pair of :class:`hearsep.audio.resample.StreamingResampler`
(device -> model -> device), whose delay is part of :attr:`LiveProcessor.latency_samples`.

Real-time rules kept here (python-sounddevice docs, "Callback streams"): no buffer is allocated
after ``__init__`` (only the transient scalars and array views CPython makes on every call, freed
by reference counting; the stream freezes the garbage collector), nothing is logged or printed,
no lock is taken; problems become counters. The callback thread is PortAudio's and its
scheduling the audio server's (on ``jackd -R``, ``SCHED_FIFO`` through libjack); its native id is
kept on the first block (:attr:`LiveProcessor.thread_id`) so that the stream can report its policy
and CPUs.

**Safe path.** ``StreamingEnhancer.bypass`` skips features and the separator for a hop (unity
mask; the chain's gains and limiter still run; same latency). The deadline of a block is
``budget_fraction`` of its period after the callback's entry (how late the server woke the
callback is not visible to it: PortAudio's ``time_info`` on JACK derives all its times from one
interpolated clock; late wake-ups show up as xruns instead). A hop takes the safe path when
``now + estimated_full_hop_ns > deadline``. The full-hop cost is measured in this thread's CPU
time (``time.thread_time_ns``), so a hop that was merely preempted does not count as expensive
(the wall time it lost still counts against its block's deadline). The estimate is a peak hold:
the last full hop's cost if it is higher, else the estimate minus 1/20 of the period per hop, so
one expensive hop keeps the next few on the safe path and the full path is retried as the
estimate decays.
The switch is click-free because the synthesis overlap-add crossfades the mask change over one
hop (``StreamingEnhancer``).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from hearsep.errors import ConfigError

#: how fast the full-hop cost estimate decays: 1/20 of the block period per hop
_COST_DECAY_DIVISOR = 20


class LiveProcessor:
    """Mic block -> enhancer (-> chain) -> earpiece block, as a PortAudio callback.

    ``enhancer``: a :class:`hearsep.runtime.enhancer.StreamingEnhancer` (its chain included), or
    ``None`` for a pass-through callback with the same instrumentation (the soak baseline).
    ``device_rate_hz``: the stream's rate; when it differs from the model's, the block is
    resampled to the model rate and back (``resample=False`` refuses instead; ``max_block_frames``
    is the longest device block the resamplers take, JACK allows up to 8192). ``budget_fraction``:
    the share of a block period the enhancer may use before hops take the safe path (``None``
    never takes it). ``ring_blocks``: how many callback durations are kept (the most recent ones,
    a power of two). ``hop_log_hops``: if > 0, the first that many hops record whether they took
    the safe path (:attr:`hop_safe_log`); ``record_samples``: if > 0, the first that many device
    samples in and out are kept (:attr:`recorded_in`, :attr:`recorded_out`), so that a run can be
    checked offline bit for bit (:func:`replay`). ``xrun_log_blocks``: how many of the first
    flagged blocks keep their block number (:attr:`xrun_blocks`: when in the run they came).
    ``clock``: wall-clock nanoseconds, monotonic; ``cpu_clock``: this thread's CPU time in
    nanoseconds (both injectable for tests).
    """

    def __init__(self, enhancer=None, *, device_rate_hz: int | None = None, budget_fraction: float | None = 0.75,
                 resample: bool = True, max_block_frames: int = 8192, ring_blocks: int = 1 << 19,
                 hop_log_hops: int = 0, record_samples: int = 0, xrun_log_blocks: int = 4096,
                 clock=time.perf_counter_ns,
                 cpu_clock=time.thread_time_ns):
        if ring_blocks < 1 or ring_blocks & (ring_blocks - 1):
            raise ConfigError(f"ring_blocks must be a power of two (got {ring_blocks})")
        if budget_fraction is not None and not 0.0 < budget_fraction <= 1.0:
            raise ConfigError(f"budget fraction must be in (0, 1] of the block period (got {budget_fraction})")
        self.enhancer = enhancer
        model_rate = enhancer.contract.sample_rate_hz if enhancer is not None else None
        self.device_rate_hz = int(device_rate_hz or model_rate or 0)
        if self.device_rate_hz <= 0:
            raise ConfigError("a pass-through callback needs device_rate_hz")
        self.model_rate_hz = int(model_rate or self.device_rate_hz)
        self.budget_fraction = budget_fraction
        self._clock = clock
        self._cpu_clock = cpu_clock
        # counters (read by the summary after the stream stops)
        self.blocks = 0
        self.safe_blocks = 0
        self.safe_hops = 0
        self.hops = 0
        self.xruns = 0
        self.input_overflows = 0
        self.output_underflows = 0
        self.frames = 0
        self.period_frames = 0
        self.max_ns = 0
        #: the native id of the thread that ran the first callback (0 before it), so that the
        #: stream can read its scheduling policy and CPUs while it runs
        self.thread_id = 0
        #: that thread's scheduling (:func:`hearsep.live.jack.thread_scheduling`), filled in by the
        #: stream while it runs ({} until then, or off Linux)
        self.callback_thread: dict = {}
        self._ring = np.zeros(ring_blocks, np.int64)
        self._cpu_ring = np.zeros(ring_blocks, np.int64)
        self._ring_mask = ring_blocks - 1
        self.hop_safe_log = np.zeros(hop_log_hops, np.uint8)
        self._xrun_log = np.zeros(xrun_log_blocks, np.int64)
        self.recorded_in = np.zeros(record_samples, np.float32)
        self.recorded_out = np.zeros(record_samples, np.float32)
        # safe-path decision state
        self._hop_cost_ns = 0
        self._hop = enhancer.contract.hop_samples if enhancer is not None else 0
        self._filled = 0
        # the enhancer's hop buffering without per-call checks (_enhance), bound once
        self._process = enhancer.process_unchecked if enhancer is not None else None
        self._hop_log_len = self.hop_safe_log.shape[0]
        # large np.zeros arrays are mapped lazily (calloc): write every page now, so that the
        # callback's first writes into the rings and recordings take no page faults
        for buffer in (self._ring, self._cpu_ring, self.hop_safe_log, self._xrun_log, self.recorded_in,
                       self.recorded_out):
            buffer.fill(0)
        # rate conversion (device -> model -> device), every buffer allocated now
        self._down = self._up = None
        self._fifo = None
        if enhancer is not None and self.device_rate_hz != self.model_rate_hz:
            if not resample:
                raise ConfigError(f"the device runs at {self.device_rate_hz} Hz and the model at "
                                  f"{self.model_rate_hz} Hz, and resampling was refused")
            from hearsep.audio.resample import StreamingResampler

            self._down = StreamingResampler(self.device_rate_hz, self.model_rate_hz, max_block_samples=max_block_frames)
            model_block = self._down.max_output_samples
            self._up = StreamingResampler(self.model_rate_hz, self.device_rate_hz, max_block_samples=model_block,
                                          input_delay_samples=self._down.delay_samples + enhancer.latency_samples)
            self._model_out = np.zeros(model_block, np.float32)
            self._fifo = np.zeros(max_block_frames + self._up.max_output_samples, np.float32)
            self._fifo_level = 0

    # ----------------------------------------------------------------------------- latency
    @property
    def latency_samples(self) -> int:
        """Input-to-output delay at the device rate: the enhancer's (model framing, hop, chain
        look-ahead), or with resampling both resamplers' filter delays around it (whole samples
        by the resamplers' design). Excludes the audio server's buffering."""
        if self.enhancer is None:
            return 0
        if self._up is not None:
            # the resampler outputs at least as many samples as it was given so far (it emits
            # output m once input floor(m * down / up) is in), so the carry FIFO adds no delay
            return self._up.delay_samples
        return self.enhancer.latency_samples

    @property
    def algorithmic_samples(self) -> int:
        """The enhancer's own delay at the model rate (0 for pass-through)."""
        return self.enhancer.latency_samples if self.enhancer is not None else 0

    @property
    def resampling_ms(self) -> float:
        """What the resamplers add to the latency, in milliseconds (0 at the model rate)."""
        if self.enhancer is None:
            return 0.0
        return 1000.0 * (self.latency_samples / self.device_rate_hz - self.algorithmic_samples / self.model_rate_hz)

    # ----------------------------------------------------------------------------- timing
    def durations_ns(self, cpu: bool = False) -> np.ndarray:
        """The recorded callback durations (ns), oldest first (at most ``ring_blocks`` of them):
        wall-clock, or with ``cpu`` the callback thread's CPU time (no preemption in it)."""
        ring = self._cpu_ring if cpu else self._ring
        n = min(self.blocks, ring.shape[0])
        if self.blocks <= ring.shape[0]:
            return ring[:n].copy()
        start = self.blocks & self._ring_mask
        return np.concatenate([ring[start:], ring[:start]])

    @property
    def xrun_blocks(self) -> np.ndarray:
        """The block numbers (0 = the first callback) of the first ``xrun_log_blocks`` xruns."""
        return self._xrun_log[:min(self.xruns, self._xrun_log.shape[0])].copy()

    # ----------------------------------------------------------------------------- callback
    def __call__(self, indata, outdata, frames, time_info, status) -> None:
        clock = self._clock
        t0 = clock()
        c0 = self._cpu_clock()
        if status:
            self._count_status(status)
        if not self.blocks:
            self.thread_id = threading.get_native_id()
        period_ns = frames * 1_000_000_000 // self.device_rate_hz
        self.period_frames = frames
        x = indata[:, 0]
        y = outdata[:, 0]
        if self.enhancer is None:
            y[:] = x
        else:
            budget = self.budget_fraction
            deadline = t0 + int(period_ns * budget) if budget is not None else None
            if self._down is None:
                safe = self._enhance(x, y, deadline, period_ns)
            else:
                safe = self._enhance_resampled(x, y, frames, deadline, period_ns)
            if safe:
                self.safe_blocks += 1
        if self.frames < self.recorded_in.shape[0]:
            f = self.frames
            n = min(frames, self.recorded_in.shape[0] - f)
            self.recorded_in[f:f + n] = x[:n]
            self.recorded_out[f:f + n] = y[:n]
        self.frames += frames
        self._cpu_ring[self.blocks & self._ring_mask] = self._cpu_clock() - c0
        dt = clock() - t0
        self._ring[self.blocks & self._ring_mask] = dt
        if dt > self.max_ns:
            self.max_ns = dt
        self.blocks += 1

    def _count_status(self, status) -> None:
        xrun = False
        if status.input_overflow or status.input_underflow:
            self.input_overflows += 1
            xrun = True
        if status.output_underflow or status.output_overflow:
            self.output_underflows += 1
            xrun = True
        if xrun:
            if self.xruns < self._xrun_log.shape[0]:
                self._xrun_log[self.xruns] = self.blocks
            self.xruns += 1

    def _enhance(self, x, y, deadline, period_ns) -> bool:
        """Run ``x`` through the enhancer into ``y`` hop by hop; True if any hop took the safe path.

        Each call of :meth:`StreamingEnhancer.process_unchecked` ends at a hop boundary (or at
        the block's end), so the safe-path decision is taken before every hop; the callback's
        buffers are float32 by construction, so ``process``'s per-call checks are skipped."""
        clock, cpu_clock, hop, process = self._clock, self._cpu_clock, self._hop, self._process
        enh = self.enhancer
        n = x.shape[0]
        pos = 0
        f = self._filled
        any_safe = False
        while pos < n:
            take = hop - f
            if take > n - pos:  # the hop stays incomplete: only copying, no decision
                process(x[pos:], y[pos:])
                f += n - pos
                break
            end = pos + take
            safe = deadline is not None and clock() + self._hop_cost_ns > deadline
            enh.bypass = safe
            cpu = cpu_clock()
            if take == n:
                process(x, y)
            else:
                process(x[pos:end], y[pos:end])
            decay = period_ns // _COST_DECAY_DIVISOR
            if safe:
                any_safe = True
                self.safe_hops += 1
                cost = self._hop_cost_ns - decay
                self._hop_cost_ns = cost if cost > 0 else 0
            else:
                cost = cpu_clock() - cpu
                held = self._hop_cost_ns - decay
                self._hop_cost_ns = cost if cost > held else held
            if self.hops < self._hop_log_len:
                self.hop_safe_log[self.hops] = safe
            self.hops += 1
            f = 0
            pos = end
        self._filled = f
        return any_safe

    def _enhance_resampled(self, x, y, frames, deadline, period_ns) -> bool:
        m = self._down.process(x)
        count = m.shape[0]
        out = self._model_out[:count]
        safe = self._enhance(m, out, deadline, period_ns) if count else False
        u = self._up.process(out)
        fifo, level = self._fifo, self._fifo_level
        fifo[level:level + u.shape[0]] = u
        level += u.shape[0]
        # level >= frames always holds (see latency_samples); guard anyway: silence, not garbage
        take = frames if level >= frames else level
        y[:take] = fifo[:take]
        if take < frames:
            y[take:] = 0.0
            self.output_underflows += 1
        for i in range(level - take):  # the few surplus samples to the front (no temporary array)
            fifo[i] = fifo[take + i]
        self._fifo_level = level - take
        return safe


def replay(enhancer, samples: np.ndarray, hop_safe: np.ndarray) -> np.ndarray:
    """What a live run at the model rate must have sent: ``samples`` (the recorded input) through a
    fresh ``enhancer``, each hop ``k`` on the safe path where ``hop_safe[k]`` (hops past the log:
    full path). Equal, bit for bit, to :attr:`LiveProcessor.recorded_out` unless audio was lost."""
    hop = enhancer.contract.hop_samples
    x = np.asarray(samples, np.float32)
    out = np.empty_like(x)
    whole = x.shape[0] // hop
    for k in range(whole):
        enhancer.bypass = bool(hop_safe[k]) if k < hop_safe.shape[0] else False
        enhancer.process(x[k * hop:(k + 1) * hop], out=out[k * hop:(k + 1) * hop])
    enhancer.bypass = False
    enhancer.process(x[whole * hop:], out=out[whole * hop:])
    return out
