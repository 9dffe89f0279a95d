"""Live audio: microphone -> enhancer (-> hearing-aid chain) -> earpiece through PortAudio.

- :class:`LiveProcessor` (``callback.py``): the audio callback, timed and counted, with the safe path;
  :func:`replay` recomputes offline what a recorded run must have sent;
- :func:`run_live` / :func:`run_loopback` (``stream.py``): the streams around it, until stopped;
- :func:`measure_loopback_latency` (``latency.py``): clicks through a JACK loopback vs the budget;
- :class:`LiveSummary` (``summary.py``): what a run reports;
- ``portaudio.py`` (devices) and ``jack.py`` (the JACK server and its ports).

Importing this package does not import ``sounddevice``; PortAudio loads when a stream or a
device list is asked for.
"""

from hearsep.live.callback import LiveProcessor, replay
from hearsep.live.jack import JackServer
from hearsep.live.latency import LoopbackLatency, measure_loopback_latency
from hearsep.live.portaudio import DeviceInfo, list_devices, load_sounddevice
from hearsep.live.stream import LoopbackProbe, run_live, run_loopback, stop_on_signals
from hearsep.live.summary import LiveSummary

__all__ = ["DeviceInfo", "JackServer", "LiveProcessor", "LiveSummary", "LoopbackLatency", "LoopbackProbe",
           "list_devices", "load_sounddevice", "measure_loopback_latency", "replay", "run_live", "run_loopback",
           "stop_on_signals"]
