"""Measuring the runner: per-hop timing, CPU, memory and energy on the target machine (no TensorFlow).

* :mod:`.timing`: the timing loops (:func:`time_loop`, :func:`time_hops`) and their statistics;
* :mod:`.profile`: :func:`profile_enhancer` runs the enhancer (and chain) and summarises it;
* :mod:`.power`: power/energy sources (RAPL, hwmon, Raspberry Pi 5 PMIC, UM25C meter) and
  :class:`PowerRecorder`; :mod:`.um_meter`: the UM24C/UM25C/UM34C serial protocol;
* :mod:`.machine`: what the machine is; :mod:`.signals`: a speech-like test input;
* :mod:`.report`: text, Markdown, PNG and the comparison table of profiles.
"""

from hearsep.profiling.machine import machine_info
from hearsep.profiling.power import (SOURCES, PowerRecorder, PowerSource, measure_idle, open_power_source,
                                     parse_pmic_adc)
from hearsep.profiling.profile import ProfileResult, check_hop_ms, load_enhancer, profile_enhancer
from hearsep.profiling.signals import speech_like_mixture
from hearsep.profiling.timing import HopTimes, percentiles_us, pin_to_one_core, time_hops, time_loop, timing_stats

__all__ = ["SOURCES", "HopTimes", "PowerRecorder", "PowerSource", "ProfileResult", "check_hop_ms", "load_enhancer",
           "machine_info", "measure_idle", "open_power_source", "parse_pmic_adc", "percentiles_us",
           "pin_to_one_core", "profile_enhancer", "speech_like_mixture", "time_hops", "time_loop", "timing_stats"]
