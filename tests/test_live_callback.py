"""The live callback without audio hardware: output, safe path, click-free switching, counters."""

import tracemalloc

import numpy as np
import pytest

from hearsep.errors import ConfigError
from hearsep.live.callback import LiveProcessor
from hearsep.live.summary import summarize
from hearsep.model.paths import DEFAULT_MODEL
from hearsep.profiling.signals import speech_like_mixture
from hearsep.runtime.enhancer import StreamingEnhancer
from models_for_tests import tiny_contract


class Flags:
    """Stands in for sounddevice.CallbackFlags."""

    def __init__(self, input_overflow=False, output_underflow=False):
        self.input_overflow, self.output_underflow = input_overflow, output_underflow
        self.input_underflow = self.output_overflow = False

    def __bool__(self):
        return self.input_overflow or self.output_underflow


NO_FLAGS = Flags()


class ConstantMask:
    """A separator whose mask is one value on every bin (a strong, known attenuation). With a
    ``clock``, the hops whose index (``hop_index()``) is in ``slow_ns`` take that much longer."""

    def __init__(self, bins, value, clock=None, slow_ns=None):
        self.mask = np.full(bins, value, np.float32)
        self.clock, self.slow_ns, self.hop_index = clock, slow_ns or {}, None

    def process(self, features):
        if self.clock is not None:
            self.clock.now += self.slow_ns.get(self.hop_index(), 0)
        return self.mask

    def reset(self):
        pass


class FakeClock:
    """perf_counter_ns stand-in: each call advances 1 us, plus ``extra_ns`` once per hop listed in
    ``slow_calls`` (call numbers), which makes that call's hop look slow."""

    def __init__(self):
        self.now, self.calls, self.slow = 0, 0, {}

    def __call__(self):
        self.calls += 1
        self.now += 1000 + self.slow.pop(self.calls, 0)
        return self.now


def feed(processor, x, frames):
    """Run ``x`` through ``processor`` in callback blocks of ``frames``; returns the output."""
    y = np.zeros(x.shape[0], np.float32)
    for i in range(0, x.shape[0] - frames + 1, frames):
        out = np.zeros((frames, 1), np.float32)
        processor(x[i:i + frames, None], out, frames, None, NO_FLAGS)
        y[i:i + frames] = out[:, 0]
    return y


def speechlike(n, rate=16000):
    """``n`` samples of the profiler's speech-like mixture (speech-like sound + noise, 5 dB SNR)."""
    return speech_like_mixture(n / rate, rate)[:n].astype(np.float32)


@pytest.mark.parametrize("frames", [32, 20, 64, 96])
def test_callback_output_equals_the_enhancer_offline_for_any_period(frames):
    x = speechlike(16000)
    reference = StreamingEnhancer.from_model(DEFAULT_MODEL).process(x)
    processor = LiveProcessor(StreamingEnhancer.from_model(DEFAULT_MODEL), budget_fraction=None)
    y = feed(processor, x, frames)
    n = (x.shape[0] // frames) * frames
    assert np.max(np.abs(reference[:n])) > 0.01
    np.testing.assert_array_equal(y[:n], reference[:n])
    assert processor.blocks == n // frames and processor.safe_blocks == 0
    assert processor.hops == n // 32


def test_passthrough_copies_and_times_every_block():
    x = speechlike(3200)
    processor = LiveProcessor(None, device_rate_hz=16000)
    y = feed(processor, x, 32)
    np.testing.assert_array_equal(y, x)
    summary = summarize(processor, "duration")
    assert summary.blocks == 100 and summary.period_us == 2000.0 and summary.seconds == pytest.approx(0.2)
    assert 0 < summary.p50_us <= summary.p99_us <= summary.p999_us <= summary.max_us


def test_xruns_are_counted_from_the_status_flags():
    processor = LiveProcessor(None, device_rate_hz=16000)
    out = np.zeros((32, 1), np.float32)
    x = np.zeros((32, 1), np.float32)
    for flags in [NO_FLAGS, Flags(output_underflow=True), Flags(input_overflow=True, output_underflow=True),
                  NO_FLAGS, Flags(input_overflow=True)]:
        processor(x, out, 32, None, flags)
    assert (processor.blocks, processor.xruns) == (5, 3)
    assert (processor.input_overflows, processor.output_underflows) == (2, 2)
    assert processor.xrun_blocks.tolist() == [1, 2, 4]  # when in the run they came


def test_the_xrun_log_keeps_the_first_blocks_and_the_count_goes_on():
    processor = LiveProcessor(None, device_rate_hz=16000, xrun_log_blocks=2)
    out, x = np.zeros((32, 1), np.float32), np.zeros((32, 1), np.float32)
    for k in range(6):
        processor(x, out, 32, None, Flags(output_underflow=k % 2 == 1))
    assert processor.xruns == 3 and processor.xrun_blocks.tolist() == [1, 3]


def test_the_callback_thread_is_recorded_on_the_first_block_and_described_in_the_summary():
    import threading

    processor = LiveProcessor(None, device_rate_hz=16000)
    assert processor.thread_id == 0
    feed(processor, speechlike(3200), 32)
    assert processor.thread_id == threading.get_native_id()
    processor.callback_thread = {"policy": "SCHED_FIFO", "priority": 65, "cpus": [0]}
    summary = summarize(processor, "duration")
    assert summary.scheduling == "SCHED_FIFO priority 65 on CPU 0"
    assert summary.as_dict()["callback_thread"] == {"policy": "SCHED_FIFO", "priority": 65, "cpus": [0]}
    assert "callback thread SCHED_FIFO priority 65 on CPU 0" in summary.lines()[-1]
    processor.callback_thread = {"policy": "SCHED_OTHER", "priority": 0, "cpus": [0, 1]}
    assert summarize(processor, "duration").scheduling == "SCHED_OTHER (not real-time) on CPUs 0,1"
    processor.callback_thread = {}
    assert summarize(processor, "duration").scheduling == "scheduling unknown"


def test_timing_ring_keeps_the_most_recent_blocks_in_order():
    clock = FakeClock()
    processor = LiveProcessor(None, device_rate_hz=16000, ring_blocks=4, clock=clock)
    x, out = np.zeros((32, 1), np.float32), np.zeros((32, 1), np.float32)
    for k in range(6):
        clock.slow[clock.calls + 2] = 1000 * k  # the call that ends block k is k us later
        processor(x, out, 32, None, NO_FLAGS)
    np.testing.assert_array_equal(processor.durations_ns(), [1000 + 1000 * k for k in (2, 3, 4, 5)])
    assert processor.max_ns == 6000


def _constant_mask_processor(mask_value, budget=0.5, hop_log=0, slow_ns=None):
    contract = tiny_contract(0)
    clock = FakeClock()
    separator = ConstantMask(contract.bins, mask_value, clock, slow_ns)
    processor = LiveProcessor(StreamingEnhancer(contract, separator), budget_fraction=budget,
                              hop_log_hops=hop_log, clock=clock, cpu_clock=clock)
    separator.hop_index = lambda: processor.hops
    return processor


def test_a_slow_hop_sends_the_next_hops_down_the_safe_path_and_they_are_counted():
    # hop 50 takes 3 ms; the budget is 1 ms of the 2 ms period
    processor = _constant_mask_processor(0.25, budget=0.5, hop_log=200, slow_ns={50: 3_000_000})
    feed(processor, speechlike(32 * 200), 32)
    log = processor.hop_safe_log
    assert not log[:51].any()  # the slow hop itself ran in full (its cost is known only after)
    safe = np.flatnonzero(log)
    # the 3 ms estimate decays by 0.1 ms a hop: safe until it is below the 1 ms budget again
    assert safe[0] == 51 and np.all(np.diff(safe) == 1) and 15 <= safe.size <= 25
    assert processor.safe_hops == processor.safe_blocks == safe.size
    assert not log[safe[-1] + 1:].any()  # back on the full path after that


def test_no_budget_never_takes_the_safe_path():
    processor = _constant_mask_processor(0.25, budget=None, hop_log=100, slow_ns={10: 50_000_000})
    feed(processor, speechlike(3200), 32)
    assert processor.safe_hops == 0 and not processor.hop_safe_log.any()


def test_safe_path_blocks_are_the_delayed_input():
    # a block whose every hop is late: output = input delayed by the latency, gain 1 (no chain)
    processor = _constant_mask_processor(0.25, budget=0.5)
    processor._hop_cost_ns = 10**12  # as if a hop had taken 1000 s: everything is safe for a while
    x = speechlike(3200)
    y = feed(processor, x, 32)
    lat = processor.latency_samples
    assert processor.safe_hops == 100
    err = y[lat + 256:] - x[256:-lat]
    assert np.max(np.abs(err)) < 1e-5


def _switching_output(mask_value, switch_every_hops, hops):
    # every 2 * switch_every_hops hops one hop is slow: the next ~20 are safe, then full again
    slow = {k: 3_000_000 for k in range(switch_every_hops, hops, 2 * switch_every_hops)}
    processor = _constant_mask_processor(mask_value, budget=0.5, hop_log=hops, slow_ns=slow)
    t = np.arange(32 * hops) / 16000
    x = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    return feed(processor, x, 32), processor


def test_switching_to_and_from_the_safe_path_is_click_free():
    y, processor = _switching_output(0.25, 60, 600)
    log = processor.hop_safe_log
    switches = np.flatnonzero(np.diff(log.astype(np.int8)))
    assert switches.size >= 8  # both directions, several times
    step = np.abs(np.diff(y))
    steady = step[: 40 * 32].max()  # before the first switch
    lat = processor.latency_samples
    # the gain goes 0.25 <-> 1; the sine's largest sample-to-sample step at 1.0 is 0.5 * 2 pi 200 / 16000
    sine_step = 0.5 * 2 * np.pi * 200 / 16000
    # every sample step from a hop before the switch to two hops after its output appears
    worst = max(step[(s - 1) * 32:(s + 1) * 32 + lat + 96].max() for s in switches)
    assert worst <= 1.25 * sine_step  # no more than the louder steady state's own steps
    # a hard switch (full-path output spliced to safe-path output at one sample) would step by
    # up to 0.75 * 0.5: the crossfade is what keeps it near the sine's own step
    assert worst < 0.2 * 0.75 * 0.5
    assert steady < sine_step


def test_resampled_path_delays_by_its_latency_and_reports_it():
    contract = tiny_contract(0)
    processor = LiveProcessor(StreamingEnhancer(contract), device_rate_hz=48000, budget_fraction=None)
    n = 48000
    t = np.arange(n) / 48000
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    y = feed(processor, x, 96)
    lat = processor.latency_samples
    assert lat > 3 * contract.latency_samples  # the resamplers' delay is included
    assert processor.resampling_ms == pytest.approx(1000 * lat / 48000 - 1000 * contract.latency_samples / 16000)

    def snr_db(d):
        a, b = y[d + 4800:n - 96], x[4800:n - 96 - d]
        return 10 * np.log10(np.sum(b ** 2) / np.sum((a - b) ** 2))

    assert snr_db(lat) > 40
    assert snr_db(lat) > snr_db(lat - 1) + 10 and snr_db(lat) > snr_db(lat + 1) + 10


def test_model_rate_differing_from_device_with_resampling_refused_is_a_config_error():
    with pytest.raises(ConfigError, match="48000 Hz.*16000 Hz.*refused"):
        LiveProcessor(StreamingEnhancer(tiny_contract(0)), device_rate_hz=48000, resample=False)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_callback_allocates_no_block_buffers_and_nothing_accumulates(rate):
    frames = 2048  # a per-block buffer would be 8 KiB: far above the callback's transient objects
    processor = LiveProcessor(StreamingEnhancer.from_model(DEFAULT_MODEL), device_rate_hz=rate,
                              budget_fraction=0.75, ring_blocks=1 << 10)
    x = speechlike(frames)[:, None]
    out = np.zeros_like(x)
    for _ in range(20):
        processor(x, out, frames, None, NO_FLAGS)
    tracemalloc.start()
    try:
        for _ in range(5):
            processor(x, out, frames, None, NO_FLAGS)
        before = tracemalloc.get_traced_memory()[0]
        worst = 0
        for _ in range(40):
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            processor(x, out, frames, None, NO_FLAGS)
            worst = max(worst, tracemalloc.get_traced_memory()[1] - start)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert worst < 6 * 1024
    assert grown < 1024
