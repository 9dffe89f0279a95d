"""Virtual hearing-aid test box: measure the chain as a clinic's analyzer measures a device.

The device under test is the streaming enhancer with a unity mask (no separator) and the
hearing-aid chain built from a preset's :class:`hearsep.chain.ChainParams`; the "coupler" is the
chain's output read through its calibration (a 0 dBFS sine = ``full_scale_db_spl`` dB SPL).
Every test signal is a pure tone, as in ANSI/ASA S3.22 (Specification of Hearing Aid
Characteristics; test conditions as summarised in Frye Electronics' "FONIX ANSI '03 Workbook"
and Audioscan's Verifit User's Guide, "ANSI S3.22-2003 facts"):

* **OSPL90**: output SPL for a 90 dB SPL input, gain control full on (volume at its maximum),
  200 Hz to 5 kHz (here to 0.45 fs); HFA = the average at 1000, 1600 and 2500 Hz; maximum value.
* **Full-on gain** (FOG): gain for a 50 dB SPL input at full-on volume; HFA-FOG.
* **Reference test setting** (RTS): the volume at which the HFA gain for a 60 dB SPL input is
  HFA-OSPL90 - 77 dB (within 1.5 dB), or full on if the full-on HFA gain at 60 dB is lower; the
  **reference test gain** (RTG) is the HFA gain there.
* **Frequency response** at RTS, 60 dB SPL input.
* **Input/output curves** at 500, 1000, 2000 and 4000 Hz, input 40 to 90 dB SPL, at the preset's
  own volume (the steady state the fitting prescribes).

Output levels of tones are read at the test frequency (a Hann-weighted lock-in, as an analyzer's
tracking filter reads a tone); the broadband level is reported beside it, and ``spurious_db`` is
the power of everything else (harmonics, hop-rate aliasing) relative to the tone.
* **Attack and release**: the tone stepped 55 -> 90 -> 55 dB SPL; the output envelope is read in
  a band around the tone (+-25 %, as analyzers band-limit it, e.g. 1.5-2.5 kHz at 2 kHz; Listen
  Inc., ANSI S3.22 release-time sequence); attack ends within 3 dB, release within 4 dB of the
  new steady state (:mod:`hearsep.chain.dynamics`). ANSI measures at 2 kHz; all four I/O
  frequencies are reported. When the step drives the output into the broadband MPO limiter,
  the times include the limiter's release and the figure is flagged ``mpo_limited``.
* **Equivalent input noise** (EIN = output noise level with no input minus the HFA gain at RTS
  for a 50 dB input). A digital chain fed digital silence outputs exact zeros, so no figure
  exists without a microphone model; the report says so instead of inventing one.
* **Total harmonic distortion** at 500, 800 and 1600 Hz (the frequencies ANSI S3.22 names), at
  RTS, with 70 dB SPL input at 500 and 800 Hz and 65 dB SPL at 1600 Hz (the input levels since
  S3.22-2003; S3.22-1996 used 70 dB SPL at all three; Frye Electronics, FONIX 6500 training
  slides, "Measurements made at RTGP"): the power of harmonics 2..5 (below 0.45 fs) relative to
  the fundamental, in percent.

The report also states how the chain under test runs (``chain``: its control rate, see
:mod:`hearsep.chain.chain`, and its look-ahead), since attack, release and distortion depend on it.

Each figure sits next to what the preset asks for, computed from the same static curves the
chain uses (:mod:`hearsep.chain.curves`).
"""

from __future__ import annotations

import numpy as np

from hearsep.chain import ChainParams, band_for_frequency, band_output_db_spl, build_chain
from hearsep.chain.chain import ONSET_DB
from hearsep.chain.dynamics import (ANSI_ATTACK_TOLERANCE_DB, ANSI_HIGH_DB_SPL, ANSI_LOW_DB_SPL,
                                    ANSI_RELEASE_TOLERANCE_DB)
from hearsep.runtime.enhancer import StreamingEnhancer, enhance_signal

#: ANSI S3.22 curve frequencies (1/3-octave, Hz) and the high-frequency-average frequencies
CURVE_FREQUENCIES_HZ = (200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150, 4000,
                        5000, 6300, 8000)
HFA_FREQUENCIES_HZ = (1000, 1600, 2500)
IO_FREQUENCIES_HZ = (500, 1000, 2000, 4000)
IO_INPUT_DB_SPL = tuple(float(v) for v in range(40, 95, 5))
THD_FREQUENCIES_HZ = (500, 800, 1600)
OSPL90_INPUT_DB_SPL, FOG_INPUT_DB_SPL, RTS_INPUT_DB_SPL = 90.0, 50.0, 60.0
#: harmonic-distortion input level (dB SPL) per ANSI test frequency; other frequencies use 70
THD_INPUT_DB_SPL = {500: 70.0, 800: 70.0, 1600: 65.0}
THD_DEFAULT_INPUT_DB_SPL = 70.0
RTS_OFFSET_DB = 77.0  # RTS: HFA gain at 60 dB input = HFA-OSPL90 - 77 dB
TONE_S, STEADY_S = 0.3, 0.1  # each steady tone, and the final part of it that is measured


class Testbox:
    """Measures one chain (``params`` in ``contract``'s frame) with pure tones; see the module doc."""

    __test__ = False  # not a pytest test class

    def __init__(self, params: ChainParams, contract, progress=None):
        self.params, self.contract = params, contract
        self.fs = contract.sample_rate_hz
        self.chain = build_chain(params, contract)
        self.progress = progress  # called with 1 after each measured signal
        self.frequencies_hz = [f for f in CURVE_FREQUENCIES_HZ if f < 0.45 * self.fs]

    # -- signals and levels -------------------------------------------------------------------
    def amplitude(self, level_db_spl):
        """Peak amplitude of a sine at ``level_db_spl`` (dB SPL) under the calibration."""
        return 10.0 ** ((np.asarray(level_db_spl, float) - self.params.full_scale_db_spl) / 20.0)

    def level_db_spl(self, y: np.ndarray) -> float:
        """Level (dB SPL) of a segment: that of the sine with the same mean power."""
        ms = float(np.mean(np.asarray(y, float) ** 2))
        return 10.0 * np.log10(max(2.0 * ms, 1e-30)) + self.params.full_scale_db_spl

    def run(self, x: np.ndarray, volume_db: float) -> np.ndarray:
        """The chain's time-aligned output for ``x`` at ``volume_db`` (from a reset state)."""
        self.chain.set_volume_db(volume_db)
        self.chain.reset()
        y = enhance_signal(StreamingEnhancer(self.contract, None, self.chain), x.astype(np.float32))
        if self.progress is not None:
            self.progress(1)
        return y

    def tone(self, frequency_hz: float, level_db_spl, seconds: float = TONE_S) -> np.ndarray:
        t = np.arange(int(round(seconds * self.fs))) / self.fs
        return self.amplitude(level_db_spl) * np.sin(2 * np.pi * frequency_hz * t)

    def tone_level_db_spl(self, y: np.ndarray, frequency_hz: float) -> float:
        """Level (dB SPL) of the component of ``y`` at ``frequency_hz`` (Hann-weighted lock-in)."""
        w = np.hanning(y.shape[0])
        t = np.arange(y.shape[0]) / self.fs
        amp = 2.0 * abs(np.sum(w * y * np.exp(-2j * np.pi * frequency_hz * t))) / np.sum(w)
        return 20.0 * np.log10(max(amp, 1e-15)) + self.params.full_scale_db_spl

    def steady_levels_db_spl(self, frequency_hz: float, input_db_spl: float, volume_db: float) -> tuple[float, float]:
        """(output at the tone frequency, broadband output) in dB SPL for a steady tone."""
        y = self.run(self.tone(frequency_hz, input_db_spl), volume_db)[-int(STEADY_S * self.fs):]
        return self.tone_level_db_spl(y, frequency_hz), self.level_db_spl(y)

    def steady_output_db_spl(self, frequency_hz: float, input_db_spl: float, volume_db: float) -> float:
        """Output SPL at the test frequency (an analyzer's tracking-filter reading of a tone)."""
        return self.steady_levels_db_spl(frequency_hz, input_db_spl, volume_db)[0]

    def expected_output_db_spl(self, frequency_hz: float, input_db_spl, volume_db: float) -> np.ndarray:
        """What the preset asks: the static curve of the band holding ``frequency_hz``."""
        band = self.params.bands[int(band_for_frequency(self.params, frequency_hz))]
        return band_output_db_spl(band, input_db_spl, volume_db, self.params.broadband_mpo_db_spl)

    # -- the ANSI S3.22 measurements -----------------------------------------------------------
    def response(self, input_db_spl: float, volume_db: float) -> dict:
        freqs = self.frequencies_hz
        levels = np.array([self.steady_levels_db_spl(f, input_db_spl, volume_db) for f in freqs])
        out = levels[:, 0]
        exp = np.array([float(self.expected_output_db_spl(f, input_db_spl, volume_db)) for f in freqs])
        return {"input_db_spl": input_db_spl, "volume_db": volume_db, "frequencies_hz": list(freqs),
                "output_db_spl": out, "expected_output_db_spl": exp, "broadband_output_db_spl": levels[:, 1],
                "spurious_db": _spurious_db(levels[:, 0], levels[:, 1]),
                "gain_db": out - input_db_spl, "expected_gain_db": exp - input_db_spl}

    def hfa(self, freqs, values) -> float:
        return float(np.mean(np.interp(np.log(HFA_FREQUENCIES_HZ), np.log(freqs), values)))

    def hfa_gain_db(self, input_db_spl: float, volume_db: float, expected: bool = False) -> float:
        if expected:
            out = [float(self.expected_output_db_spl(f, input_db_spl, volume_db)) for f in HFA_FREQUENCIES_HZ]
        else:
            out = [self.steady_output_db_spl(f, input_db_spl, volume_db) for f in HFA_FREQUENCIES_HZ]
        return float(np.mean(out)) - input_db_spl

    def reference_test_setting(self, hfa_ospl90_db_spl: float, expected: bool = False) -> tuple[float, float]:
        """(volume_db, HFA gain at 60 dB SPL there): RTS per ANSI S3.22, by a few secant steps."""
        target = hfa_ospl90_db_spl - RTS_OFFSET_DB
        vmax, vmin = self.params.volume_max_db, self.params.volume_min_db
        v = vmax
        g = self.hfa_gain_db(RTS_INPUT_DB_SPL, v, expected)
        for _ in range(4):
            if g <= target + 1.5 and (v == vmax or g >= target - 1.5) or v == vmin:
                break
            v = float(np.clip(v + (target - g), vmin, vmax))  # gain moves dB for dB with volume
            g = self.hfa_gain_db(RTS_INPUT_DB_SPL, v, expected)
        return v, g

    def io_curves(self, volume_db: float) -> dict:
        levels = np.array(IO_INPUT_DB_SPL)
        curves = {}
        for f in IO_FREQUENCIES_HZ:
            if f >= 0.45 * self.fs:
                continue
            both = np.array([self.steady_levels_db_spl(f, L, volume_db) for L in levels])
            out = both[:, 0]
            exp = self.expected_output_db_spl(f, levels, volume_db)
            curves[str(f)] = {"output_db_spl": out, "expected_output_db_spl": exp,
                              "max_error_db": float(np.max(np.abs(out - exp))),
                              "broadband_output_db_spl": both[:, 1], "spurious_db": _spurious_db(out, both[:, 1])}
        return {"input_db_spl": levels, "volume_db": volume_db, "curves": curves}

    def attack_release(self, frequency_hz: float, volume_db: float, offset_samples: int = 0) -> dict:
        """ANSI step 55 -> 90 -> 55 dB SPL at ``frequency_hz``: attack and release times (ms).

        The steps come ``offset_samples`` after a hop boundary (and after a control hop of the
        chain when that is a multiple of ``control_hops * hop_samples``).
        """
        from scipy.signal import butter, hilbert, sosfiltfilt

        band = self.params.bands[int(band_for_frequency(self.params, frequency_hz))]
        fs = self.fs
        n0 = int(0.5 * fs) + int(offset_samples)
        n1 = int(max(0.5, 0.02 * band.attack_ms) * fs)
        n2 = int(max(1.0, 0.006 * band.release_ms) * fs)
        level = np.concatenate([np.full(n0, ANSI_LOW_DB_SPL), np.full(n1, ANSI_HIGH_DB_SPL),
                                np.full(n2, ANSI_LOW_DB_SPL)])
        t = np.arange(level.shape[0]) / fs
        y = self.run(self.amplitude(level) * np.sin(2 * np.pi * frequency_hz * t), volume_db)
        sos = butter(4, [0.75 * frequency_hz, min(1.25 * frequency_hz, 0.49 * fs)], "bandpass", fs=fs,
                     output="sos")
        env = np.abs(hilbert(sosfiltfilt(sos, y.astype(float))))
        env_db = 20.0 * np.log10(np.maximum(env, 1e-12)) + self.params.full_scale_db_spl
        attack = _settling_ms(env_db[n0:n0 + n1], ANSI_ATTACK_TOLERANCE_DB, fs)
        release = _settling_ms(env_db[n0 + n1:], ANSI_RELEASE_TOLERANCE_DB, fs)
        return {"frequency_hz": frequency_hz, "attack_ms": attack, "preset_attack_ms": band.attack_ms,
                "mpo_limited": self.chain.limited_hops > 0,
                "release_ms": release, "preset_release_ms": band.release_ms,
                "envelope_db_spl": env_db[::int(fs // 1000)], "envelope_step_ms": 1000.0 * int(fs // 1000) / fs,
                "step_up_ms": 1000.0 * n0 / fs, "step_down_ms": 1000.0 * (n0 + n1) / fs}

    def harmonic_distortion(self, frequency_hz: float, volume_db: float, input_db_spl: float | None = None) -> float:
        """THD (%) of the output for a steady tone: harmonics 2..5 below 0.45 fs vs the fundamental.

        ``input_db_spl`` defaults to the ANSI level for the frequency (:data:`THD_INPUT_DB_SPL`).
        """
        level = thd_input_db_spl(frequency_hz) if input_db_spl is None else input_db_spl
        y = self.run(self.tone(frequency_hz, level), volume_db)[-int(STEADY_S * self.fs):]
        power = [10.0 ** (self.tone_level_db_spl(y, k * frequency_hz) / 10.0)
                 for k in range(1, 6) if k * frequency_hz < 0.45 * self.fs]
        return 100.0 * float(np.sqrt(sum(power[1:]) / max(power[0], 1e-30)))

    def measure(self) -> dict:
        """All measurements, as a JSON-ready dict (numpy arrays included)."""
        p = self.params
        vmax = p.volume_max_db
        ospl = self.response(OSPL90_INPUT_DB_SPL, vmax)
        hfa_ospl = self.hfa(ospl["frequencies_hz"], ospl["output_db_spl"])
        hfa_ospl_exp = self.hfa(ospl["frequencies_hz"], ospl["expected_output_db_spl"])
        fog = self.response(FOG_INPUT_DB_SPL, vmax)
        v_rts, rtg = self.reference_test_setting(hfa_ospl)
        v_rts_exp, rtg_exp = self.reference_test_setting(hfa_ospl_exp, expected=True)
        fr = self.response(RTS_INPUT_DB_SPL, v_rts)
        ein_gain = self.hfa_gain_db(FOG_INPUT_DB_SPL, v_rts)
        silence = self.run(np.zeros(int(TONE_S * self.fs)), v_rts)
        noise_peak = float(np.max(np.abs(silence)))
        return {
            "calibration": {"full_scale_db_spl": p.full_scale_db_spl},
            "volume_db": {"preset": p.volume_db, "min": p.volume_min_db, "max": vmax},
            "mpo_db_spl": {"broadband": p.broadband_mpo_db_spl, "bands": [b.mpo_db_spl for b in p.bands]},
            "ospl90": {**ospl, "hfa_db_spl": hfa_ospl, "expected_hfa_db_spl": hfa_ospl_exp,
                       "max_db_spl": float(np.max(ospl["output_db_spl"])),
                       "expected_max_db_spl": float(np.max(ospl["expected_output_db_spl"]))},
            "full_on_gain": {**fog, "hfa_db": self.hfa(fog["frequencies_hz"], fog["gain_db"]),
                             "expected_hfa_db": self.hfa(fog["frequencies_hz"], fog["expected_gain_db"])},
            "reference_test_gain": {"volume_db": v_rts, "hfa_gain_db": rtg, "expected_volume_db": v_rts_exp,
                                    "expected_hfa_gain_db": rtg_exp, "target_db": hfa_ospl - RTS_OFFSET_DB},
            "frequency_response": fr,
            "io_curves": self.io_curves(p.volume_db),
            "attack_release": {str(f): self.attack_release(f, p.volume_db) for f in IO_FREQUENCIES_HZ
                               if f < 0.45 * self.fs},
            "equivalent_input_noise": {
                "ein_db_spl": None, "hfa_gain_50_db": ein_gain, "silence_output_peak": noise_peak,
                "note": ("digital silence in gives exact zeros out: the chain adds no noise, so EIN is "
                         "undefined without a microphone model" if noise_peak == 0.0 else
                         "the chain's output for digital silence is not zero")},
            "harmonic_distortion": {str(f): {"input_db_spl": thd_input_db_spl(f), "thd_percent":
                                             self.harmonic_distortion(f, v_rts)} for f in THD_FREQUENCIES_HZ},
            "chain": {"control_hops": self.chain.control_hops,
                      "control_period_ms": 1000.0 * self.chain.control_hops * self.contract.hop_samples / self.fs,
                      "onset_db": ONSET_DB, "latency_samples": self.chain.latency_samples},
        }

    def signal_count(self) -> int:
        """How many signals :meth:`measure` runs (for a progress bar); RTS searches may add a few."""
        n = len(self.frequencies_hz)
        io = len([f for f in IO_FREQUENCIES_HZ if f < 0.45 * self.fs])
        return 3 * n + 2 * 3 + 3 + 1 + io * len(IO_INPUT_DB_SPL) + io + len(THD_FREQUENCIES_HZ)


def thd_input_db_spl(frequency_hz: float) -> float:
    """The ANSI S3.22 harmonic-distortion input level (dB SPL) at ``frequency_hz``."""
    return THD_INPUT_DB_SPL.get(int(round(frequency_hz)), THD_DEFAULT_INPUT_DB_SPL)


def _spurious_db(tone_db, broadband_db) -> np.ndarray:
    """Power of everything but the tone relative to the tone (dB; -inf when none)."""
    ratio = 10.0 ** ((np.asarray(broadband_db) - np.asarray(tone_db)) / 10.0) - 1.0
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.maximum(ratio, 0.0))


def _settling_ms(env_db: np.ndarray, tolerance_db: float, fs: float) -> float:
    """Time (ms) from the segment start until the envelope stays within ``tolerance_db`` of its
    steady state (the median of the segment's last fifth)."""
    tail = env_db[-max(env_db.shape[0] // 5, 1):]
    steady = float(np.median(tail))
    outside = np.flatnonzero(np.abs(env_db[:env_db.shape[0] - tail.shape[0]] - steady) > tolerance_db)
    return 0.0 if outside.size == 0 else 1000.0 * (outside[-1] + 1) / fs


def measure_chain(params: ChainParams, contract, progress=None) -> dict:
    """Run the whole virtual test box on ``params`` (see :class:`Testbox`)."""
    return Testbox(params, contract, progress).measure()


def summary_rows(report: dict) -> list[tuple[str, float | None, float | None]]:
    """(measurement, measured, what the preset asks) rows of a :func:`measure_chain` report."""
    o, f, r = report["ospl90"], report["full_on_gain"], report["reference_test_gain"]
    rows = [("HFA-OSPL90 (dB SPL)", o["hfa_db_spl"], o["expected_hfa_db_spl"]),
            ("max OSPL90 (dB SPL)", o["max_db_spl"], o["expected_max_db_spl"]),
            ("HFA full-on gain, 50 dB SPL in (dB)", f["hfa_db"], f["expected_hfa_db"]),
            ("reference test setting: volume (dB)", r["volume_db"], r["expected_volume_db"]),
            ("reference test gain, 60 dB SPL in (dB)", r["hfa_gain_db"], r["expected_hfa_gain_db"])]
    for freq, c in report["io_curves"]["curves"].items():
        rows.append((f"I/O {freq} Hz, 40-90 dB SPL: max |error| (dB)", c["max_error_db"], 0.0))
    for freq, a in report["attack_release"].items():
        note = " [MPO limiter active]" if a["mpo_limited"] else ""
        rows.append((f"attack {freq} Hz (ms){note}", a["attack_ms"], a["preset_attack_ms"]))
        rows.append((f"release {freq} Hz (ms){note}", a["release_ms"], a["preset_release_ms"]))
    rows.append(("equivalent input noise (dB SPL)", report["equivalent_input_noise"]["ein_db_spl"], None))
    for freq, h in report["harmonic_distortion"].items():
        rows.append((f"THD {freq} Hz, {h['input_db_spl']:g} dB SPL in (%)", h["thd_percent"], None))
    if "chain" in report:
        c = report["chain"]
        rows.append((f"chain gain updates: every {c['control_hops']} hops + onsets (ms)", c["control_period_ms"], None))
    return rows


def testbox_figure(report: dict, title: str = ""):
    """A matplotlib Figure: OSPL90/FOG/response curves, I/O curves, attack/release envelopes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 4.8))
    fig.suptitle(title or "virtual test box (ANSI S3.22 tests)")
    for key, label, y in (("ospl90", "OSPL90", "output_db_spl"), ("full_on_gain", "full-on gain", "gain_db"),
                          ("frequency_response", "response at RTS", "gain_db")):
        d = report[key]
        line, = a1.semilogx(d["frequencies_hz"], d[y], "o-", ms=3, label=f"{label} (measured)")
        a1.semilogx(d["frequencies_hz"], d["expected_" + y], "--", color=line.get_color(), label=f"{label} (preset)")
    from matplotlib.ticker import FixedLocator, NullFormatter

    ticks = [f for f in (250, 500, 1000, 2000, 4000, 8000) if f <= max(report["ospl90"]["frequencies_hz"]) * 1.3]
    a1.xaxis.set_major_locator(FixedLocator(ticks))
    a1.set_xticklabels([f"{f / 1000:g}k" if f >= 1000 else f"{f}" for f in ticks])
    a1.xaxis.set_minor_formatter(NullFormatter())
    a1.set_xlabel("frequency (Hz)")
    a1.set_ylabel("dB SPL (OSPL90) / dB (gain)")
    a1.grid(True, which="both", alpha=0.3)
    a1.legend(fontsize=7)
    io = report["io_curves"]
    for freq, c in io["curves"].items():
        line, = a2.plot(io["input_db_spl"], c["output_db_spl"], "o", ms=4, label=f"{freq} Hz measured")
        a2.plot(io["input_db_spl"], c["expected_output_db_spl"], "-", color=line.get_color(), label=f"{freq} Hz preset")
    a2.set_xlabel("input (dB SPL)")
    a2.set_ylabel("output (dB SPL)")
    a2.set_title(f"input/output at volume {io['volume_db']:g} dB")
    a2.grid(True, alpha=0.3)
    a2.legend(fontsize=7)
    for freq, a in report["attack_release"].items():
        env = np.asarray(a["envelope_db_spl"])
        t = np.arange(env.shape[0]) * a["envelope_step_ms"]
        a3.plot(t, env, lw=0.8, label=f"{freq} Hz: attack {a['attack_ms']:.1f} ms (preset {a['preset_attack_ms']:g}), "
                                      f"release {a['release_ms']:.0f} ms (preset {a['preset_release_ms']:g})"
                                      + (", MPO-limited" if a["mpo_limited"] else ""))
    a3.set_xlabel("time (ms); tone 55 -> 90 -> 55 dB SPL")
    a3.set_ylabel("output envelope (dB SPL)")
    a3.grid(True, alpha=0.3)
    a3.legend(fontsize=6)
    fig.tight_layout()
    return fig


def save_testbox_png(report: dict, path, title: str = ""):
    """Draw :func:`testbox_figure` to ``path`` (PNG, written atomically)."""
    import matplotlib.pyplot as plt

    from hearsep.files import atomic_write

    fig = testbox_figure(report, title)
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)
