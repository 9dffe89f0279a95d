"""Live streams: a mono duplex PortAudio stream around a :class:`LiveProcessor`, run until told to stop.

:func:`run_live` is mic -> processor -> earpiece on the chosen devices; :func:`run_loopback` adds a
second stream, a :class:`LoopbackProbe` (a test instrument that plays a signal and records what
comes back), wired on a JACK server as probe out -> runner in and runner out -> probe in.

Streams use ``blocksize=0`` so the server's period decides the block (any other size adds a
second buffer in PortAudio; PortAudio docs, ``Pa_OpenStream`` ``framesPerBuffer``:
``paFramesPerBufferUnspecified``). The garbage collector is frozen and disabled while a stream
runs (``gc.freeze``, Python docs) so no collection pauses the callback.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from contextlib import contextmanager

import numpy as np

from hearsep.errors import LiveAudioError
from hearsep.live import jack
from hearsep.live.callback import LiveProcessor
from hearsep.live.portaudio import (JACK_HOST_API, DeviceInfo, abandon_portaudio, check_rate, list_devices,
                                    load_sounddevice, resolve_device)
from hearsep.live.summary import LiveSummary, summarize

_POLL_S = 0.02


@contextmanager
def stop_on_signals(stop: threading.Event, signals=(signal.SIGINT, signal.SIGTERM)):
    """While inside, SIGINT (Ctrl-C) and SIGTERM (systemd's stop) set ``stop`` instead of killing."""
    previous = {}
    try:
        for s in signals:
            previous[s] = signal.signal(s, lambda *_: stop.set())
    except ValueError:  # not the main thread: signals stay as they were
        pass
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class LoopbackProbe:
    """A measuring callback: plays ``signal`` (float32, mono) once and records as many samples.

    After the signal it plays silence; :attr:`finished` turns True once ``recorded`` is full.
    Allocates nothing per call.
    """

    def __init__(self, signal_samples: np.ndarray):
        self.signal = np.ascontiguousarray(signal_samples, dtype=np.float32).reshape(-1)
        self.recorded = np.zeros_like(self.signal)
        self.position = 0

    @property
    def finished(self) -> bool:
        return self.position >= self.signal.shape[0]

    def __call__(self, indata, outdata, frames, time_info, status) -> None:
        p = self.position
        n = self.signal.shape[0] - p
        if n > frames:
            n = frames
        if n > 0:
            outdata[:n, 0] = self.signal[p:p + n]
            self.recorded[p:p + n] = indata[:n, 0]
        if n < frames:
            outdata[(n if n > 0 else 0):, 0] = 0.0
        self.position = p + frames


class _Stream:
    """One mono float32 duplex stream and, on JACK, the ports it registered."""

    def __init__(self, sd, callback, rate_hz: int, device_in: DeviceInfo, device_out: DeviceInfo, on_jack: bool):
        before = set(jack.ports()) if on_jack else set()
        try:
            self.stream = sd.Stream(samplerate=rate_hz, blocksize=0, device=(device_in.index, device_out.index),
                                    channels=1, dtype="float32", callback=callback)
        except Exception as exc:  # PortAudioError / ValueError with PortAudio's reason
            raise LiveAudioError(f"cannot open the audio stream at {rate_hz} Hz on {device_in.name!r} -> "
                                 f"{device_out.name!r}: {str(exc).split(' [PaErrorCode')[0]}") from None
        self.in_port = self.out_port = None
        self.on_jack = on_jack
        self.abandoned = self.closed = False
        if on_jack:
            new = [p for p in jack.ports() if p not in before]
            ins = [p for p in new if p.rsplit(":", 1)[-1].startswith("in")]
            outs = [p for p in new if p.rsplit(":", 1)[-1].startswith("out")]
            if len(ins) != 1 or len(outs) != 1:
                self.close()
                raise LiveAudioError(f"cannot tell this stream's JACK ports apart (new ports: {', '.join(new) or 'none'})")
            self.in_port, self.out_port = ins[0], outs[0]

    @property
    def active(self) -> bool:
        return bool(self.stream.active)

    def start(self) -> None:
        self.stream.start()

    def close(self) -> None:
        """Stop and close; after the server went away, abandon the stream instead (PortAudio's
        JACK host API waits forever for a stop the dead server never acknowledges)."""
        if self.abandoned or self.closed:
            return
        if not self.active and not jack_alive(self):
            self.abandoned = True
            abandon_portaudio()
            return
        self.closed = True
        try:
            self.stream.stop()
        except Exception:  # the server may already be gone: nothing left to stop
            pass
        try:
            self.stream.close()
        except Exception:
            pass


def jack_alive(stream: _Stream) -> bool:
    """False when ``stream`` is on JACK and the server no longer answers."""
    return not stream.on_jack or jack.server_running()


def _devices(input_device, output_device, rate_hz: int | None):
    sd = load_sounddevice(refresh=True)
    apis, devices = list_devices(refresh=False)
    dev_in = resolve_device(input_device, "input", devices)
    dev_out = resolve_device(output_device, "output", devices)
    rate = int(rate_hz or dev_in.default_samplerate_hz)
    check_rate(sd, dev_in, dev_out, rate)
    on_jack = dev_in.host_api == JACK_HOST_API and dev_out.host_api == JACK_HOST_API and jack.jack_available()
    return sd, dev_in, dev_out, rate, on_jack


def device_rate_hz(input_device=None, rate_hz: int | None = None) -> int:
    """The rate a stream on ``input_device`` will run at: ``rate_hz`` or the device's default."""
    if rate_hz:
        return int(rate_hz)
    _, devices = list_devices(refresh=True)
    return int(resolve_device(input_device, "input", devices).default_samplerate_hz)


@contextmanager
def _gc_frozen():
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _note_callback_thread(processor: LiveProcessor) -> None:
    """Read the callback thread's scheduling once it has run (it only exists while the stream runs)."""
    if not processor.callback_thread and processor.thread_id:
        processor.callback_thread = jack.thread_scheduling(processor.thread_id)


def _wait(streams: list[_Stream], until, stop: threading.Event | None, on_poll=None,
          processor: LiveProcessor | None = None) -> str:
    while True:
        if processor is not None:
            _note_callback_thread(processor)
        if on_poll is not None:
            on_poll()
        if stop is not None and stop.wait(_POLL_S):
            return "signal"
        if stop is None:
            time.sleep(_POLL_S)
        if not all(s.active for s in streams):
            # the JACK server went away, or PortAudio ended the stream (a device vanished, or the
            # callback raised: sounddevice then prints the error and aborts the stream)
            return "server stopped" if not all(jack_alive(s) for s in streams) else "stream stopped"
        if until():
            return "duration"


def run_live(processor: LiveProcessor, *, input_device=None, output_device=None, seconds: float | None = None,
             stop: threading.Event | None = None, connect_system: bool = True, on_start=None) -> LiveSummary:
    """Mic -> ``processor`` -> earpiece until ``seconds`` of audio, ``stop`` is set, or the server goes.

    Devices are PortAudio indices or names (``None``: the defaults); the stream runs at
    ``processor.device_rate_hz``. On a JACK server started with autoconnect off, the stream's
    ports are wired to the first ``system`` capture and playback ports (``connect_system``).
    ``on_start(stream_info)`` is called once the stream runs (``stream_info``: dict with the
    devices, the JACK ports and ``server_frames``: the capture + playback latency JACK reports on
    the ports the stream is connected to, the server's part of mic -> earpiece; None off JACK).
    Returns the run's :class:`LiveSummary`.
    """
    sd, dev_in, dev_out, rate, on_jack = _devices(input_device, output_device, processor.device_rate_hz)
    stream = _Stream(sd, processor, rate, dev_in, dev_out, on_jack)
    try:
        if on_jack and connect_system:
            everything = jack.ports()
            capture = [p for p in everything if p.startswith("system:capture")]
            playback = [p for p in everything if p.startswith("system:playback")]
            if capture and not jack.connections(stream.in_port):
                jack.connect(capture[0], stream.in_port)
            if playback and not jack.connections(stream.out_port):
                jack.connect(stream.out_port, playback[0])
        frames_wanted = None if seconds is None else int(round(seconds * rate))
        with _gc_frozen():
            stream.start()
            if on_start is not None:
                on_start({"input": dev_in, "output": dev_out, "rate_hz": rate, "in_port": stream.in_port,
                          "out_port": stream.out_port, "server_frames": _server_frames(stream)})
            ended = _wait([stream], lambda: frames_wanted is not None and processor.frames >= frames_wanted, stop,
                          processor=processor)
            stream.close()
    finally:
        stream.close()
    return summarize(processor, ended)


def _server_frames(stream: _Stream) -> int | None:
    """Capture latency of the ports feeding the stream + playback latency of those it feeds (JACK)."""
    if not stream.on_jack:
        return None
    sources, sinks = jack.connections(stream.in_port), jack.connections(stream.out_port)
    capture = max((jack.port_latency_frames(p)["capture"][1] for p in sources), default=0)
    playback = max((jack.port_latency_frames(p)["playback"][1] for p in sinks), default=0)
    return capture + playback


def run_loopback(processor: LiveProcessor, probe: LoopbackProbe, *, stop: threading.Event | None = None,
                 on_poll=None) -> tuple[LiveSummary, dict]:
    """Run ``processor`` with ``probe`` wired around it on the JACK server until the probe is done.

    probe out -> runner in, runner out -> probe in (JACK connections, no ``system`` ports: on a
    server with autoconnect on, the connections PortAudio makes at start are removed; the probe's
    first click should come 0.5 s in). ``on_poll()`` is called every 20 ms while it runs
    (progress). Returns the runner's summary and ``{"server_frames": 0, "in_port": ...,
    "out_port": ...}``: between client ports there is no driver, so the server adds no latency
    beyond the one-period cycle (JACK's reported port latencies are not used here: with
    autoconnect on they keep describing the removed ``system`` connections).
    """
    sd, dev_in, dev_out, rate, on_jack = _devices(None, None, processor.device_rate_hz)
    if not on_jack:
        raise LiveAudioError("a loopback measurement needs a JACK server (none found: start one, e.g. "
                             "`jackd -d dummy -r 16000 -p 32`, or install jackd2)")
    runner = _Stream(sd, processor, rate, dev_in, dev_out, on_jack)
    try:
        prober = _Stream(sd, probe, rate, dev_in, dev_out, on_jack)
        try:
            wanted = {(prober.out_port, runner.in_port), (runner.out_port, prober.in_port)}
            for pair in wanted:
                jack.connect(*pair)
            with _gc_frozen():
                runner.start()
                prober.start()
                for port, is_input in ((runner.in_port, True), (prober.in_port, True),
                                       (runner.out_port, False), (prober.out_port, False)):
                    for other in jack.connections(port):
                        pair = (other, port) if is_input else (port, other)
                        if pair not in wanted:
                            jack.disconnect(*pair)
                ended = _wait([runner, prober], lambda: probe.finished, stop, on_poll, processor)
                prober.close()
                runner.close()
        finally:
            prober.close()
    finally:
        runner.close()
    return summarize(processor, ended), {"server_frames": 0, "in_port": runner.in_port, "out_port": runner.out_port}
