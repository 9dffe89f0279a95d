"""The hearing-aid chain after the separator, as a :class:`hearsep.runtime.enhancer.HopChain`.

Per hop, in the enhancer's STFT frame (``process_spectrum``):

1. noise-reduction strength: ``enhanced = (1 - lim) * enhanced + lim * noisy`` with
   ``lim = 10 ** (-noise_reduction_db / 20)``, so the output is never more than
   ``noise_reduction_db`` below the input for masks in [0, 1] (DeepFilterNet's ``atten_lim_db``,
   ``df/enhance.py``: ``torch.lerp(enhanced, noisy, lim)``; Schroeter et al. 2022);
2. on a *control hop* (below), steps 3-8 compute new band gains; on the others the last
   control hop's bin gains are kept;
3. band levels (dB SPL) from the calibrated band power (:mod:`hearsep.chain.bands`);
4. a per-band level detector with attack/release coefficients derived from the ANSI S3.22
   times (:mod:`hearsep.chain.dynamics`, for this control schedule);
5. band gain = static curve at the detector level with volume added
   (:func:`hearsep.chain.curves.gain_table_db`, a table at 0.1 dB steps of level);
6. across-band gain coupling (after the cap of step 7): a band whose level is about what a louder band leaks into it
   through this frame's analysis window takes (mostly) that band's gain,
   ``g'_b = sum_j C[b, j] w_j g_j / sum_j C[b, j] w_j`` with ``w_j = 10 ** (COUPLING_POWER *
   L_j / 10)`` (band level ``L_j`` dB SPL of this very frame) and ``C = (Lambda / COUPLING_MARGIN) **
   COUPLING_POWER`` off the diagonal, 1 on it (``Lambda`` = :func:`hearsep.chain.bands.leakage_matrix`).
   Why: per-bin gains that differ between neighbouring bands time-alias in the 4 ms synthesis
   window (see :func:`hearsep.chain.bands.band_gain_matrix`); for a tone, the neighbours of its
   band hold only the tone's own side lobes, yet read 16-28 dB below it and so got the large
   gains of soft input (37 % THD at 500 Hz for the N3 WDRC preset at the reference test
   setting). Their bins carry the tone, so they get the tone's gain. A band with content of
   its own 10 dB above the leakage keeps ``>= 98 %`` of its own weight. Hearing aids couple
   adjacent channels' gains for similar reasons (limiting spectral-contrast distortion);
7. capped so that the control frame's band output stays at or under the band MPO (output
   limiting without attack time: ``gain <= mpo_db_spl - L`` with ``L`` the band level of the
   control frame; applied before the coupling and again after it);
8. band gains spread onto the bins with short-impulse-response band shapes corrected so that a
   tone at each band centre gets its band's gain through the short synthesis window
   (:func:`hearsep.chain.bands.band_gain_matrix`);
9. the bin gains multiply the spectrum (every hop).

Control rate. Steps 3-8 are about fifteen small numpy calls, most of the chain's cost, so they
run on every :data:`CONTROL_HOPS`-th hop (8 ms at the 2 ms hop; hearing aids update their gains
per block of a few ms), and on any hop whose spectrum power exceeds the detectors' level at the
last control hop (the sum over bands of ``10 ** (D_b / 10)``, ``D_b`` as it stood before that
hop's update) by more than :data:`ONSET_DB`: while a level rises above the detectors, that is,
through every attack, each hop is a control hop, so attack times and the band MPO caps of an
onset do not wait for the schedule; steady and falling levels (release) run at the control
rate. Every update uses the same coefficients, and
:func:`hearsep.chain.dynamics.detector_coefficients` derives them on a model of exactly this
schedule (mean over the step's phase to it; ``tests/test_chain_dynamics.py`` measures the ANSI
times at every phase).
What it costs: on a held hop the band MPO caps are those of the last control frame, so until
the next control hop (at most ``CONTROL_HOPS - 1`` hops) a band whose level rose without lifting
the spectrum's power ``ONSET_DB`` over the detectors' can sit over its band cap by that rise
(the broadband limiter below bounds every sample regardless); and in a release the gain rises in steps, one per control
hop, each cross-faded by the synthesis window (at most 2.5 dB per step in the ANSI 35 dB
release at CR 2 and 100 ms, where the every-hop chain takes steps a quarter of that; tested).
About a third of the hops of speech-like input are control hops (``tools/bench_chain.py``
reports the fraction). ``control_hops=1`` gives the every-hop chain.

Per synthesised hop (``process_hop``): the broadband look-ahead peak limiter and the hard
ceiling at the broadband MPO (:mod:`hearsep.chain.limiter`); its look-ahead is the chain's only
latency (``latency_samples``). All buffers are allocated here; the per-hop calls allocate no
arrays, and as the enhancer calls the chain once per whole hop (the control schedule counts
hops from the last reset), the output is bit-identical however the input is chunked.

The per-hop calls are closures built once per chain (:meth:`HearingAidChain._spectrum_kernel`,
:meth:`hearsep.chain.limiter.PeakLimiter._pass_through`): locals only, numpy methods and ufuncs
with positional outputs on same-shape float32 arrays (keyword arguments and broadcasting each
cost about as much as the arithmetic on arrays this small), and BLAS ``saxpy``/``sdot`` through
:mod:`scipy.linalg.blas` for the per-hop mix and power. ``tools/bench_chain.py`` measures the
result next to the enhancer's step.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.linalg.blas import saxpy, sdot

from hearsep.chain.bands import band_gain_matrix, band_power_matrix, bin_bands, leakage_matrix
from hearsep.chain.curves import gain_table_db
from hearsep.chain.dynamics import detector_coefficients
from hearsep.chain.limiter import PeakLimiter, sample_ceiling
from hearsep.chain.params import ChainParams
from hearsep.errors import ConfigError
from hearsep.features.stft import window_pair

#: control rate: band levels, detectors, gain table, MPO caps and coupling run on every
#: CONTROL_HOPS-th hop (8 ms at the 2 ms hop) and at onsets; the bin gains they give are applied
#: on every hop
CONTROL_HOPS = 4
#: a hop whose spectrum power exceeds the detectors' level (summed over bands) by more than this
#: (dB) is a control hop at once: every hop of an attack is one
ONSET_DB = 2.0
#: level range (dB SPL) and step (dB) of the gain table the detector level indexes
TABLE_MIN_DB_SPL, TABLE_MAX_DB_SPL, TABLE_STEP_DB = -20.0, 160.0, 0.1
#: the longest limiter look-ahead allowed (ms): the chain's whole added latency
MAX_LOOKAHEAD_MS = 1.0
#: release time of the broadband peak limiter (ms)
LIMITER_RELEASE_MS = 50.0
#: across-band gain coupling: sharpness (power of the band power ratio) and margin (a band
#: holding this fraction of the leakage it would get from a louder band counts as leakage)
COUPLING_POWER, COUPLING_MARGIN = 4.0, 0.5
#: coupling weights ``w = (P / P_ref) ** COUPLING_POWER`` are centred on this level (dB SPL):
#: over the table's range (-20..160 dB SPL) they span 1e-40..1e32, in float32 (the lowest,
#: for bands at digital silence, are subnormal; their gain is then that of silence)
COUPLING_REFERENCE_DB_SPL = 80.0


@functools.lru_cache(maxsize=None)
def _saxpy_works_in_place() -> bool:
    """Whether scipy's ``saxpy(x, y, n, a)`` updates a contiguous float32 ``y`` in place (checked once)."""
    x, y = np.ones(4, np.float32), np.ones(4, np.float32)
    return saxpy(x, y, 4, 0.5) is y and bool(np.all(y == 1.5))


def _numpy_axpy(x, y, n, a):
    """``y += a x`` in place with numpy (the fallback for :func:`scipy.linalg.blas.saxpy`)."""
    y += np.float32(a) * x  # (allocates: only where saxpy does not work in place)
    return y


def check_params(params: ChainParams) -> None:
    """Refuse parameters the chain cannot run, naming the field (ConfigError)."""
    if len(params.bands) != len(params.crossovers_hz) + 1:
        raise ConfigError(f"chain: {len(params.bands)} bands need {len(params.bands) - 1} crossovers_hz, "
                          f"got {len(params.crossovers_hz)}")
    if not 0.0 <= params.limiter_lookahead_ms <= MAX_LOOKAHEAD_MS:
        raise ConfigError(f"chain: limiter_lookahead_ms must be in [0, {MAX_LOOKAHEAD_MS}] ms, "
                          f"got {params.limiter_lookahead_ms}")
    if not params.noise_reduction_db >= 0.0:
        raise ConfigError(f"chain: noise_reduction_db must be >= 0 dB, got {params.noise_reduction_db}")
    if not params.volume_min_db <= params.volume_max_db:
        raise ConfigError(f"chain: volume_min_db ({params.volume_min_db}) exceeds volume_max_db "
                          f"({params.volume_max_db})")
    edges = (0.0, *params.crossovers_hz, math.inf)
    for i, b in enumerate(params.bands):
        if not edges[i] <= b.centre_hz < edges[i + 1]:
            raise ConfigError(f"chain: band {i}: centre_hz {b.centre_hz:g} Hz lies outside its band "
                              f"[{edges[i]:g}, {edges[i + 1]:g}) Hz between the crossovers")
        for name in ("attack_ms", "release_ms"):
            if not getattr(b, name) > 0.0:
                raise ConfigError(f"chain: band {i} ({b.centre_hz:g} Hz): {name} must be > 0 ms, "
                                  f"got {getattr(b, name)}")
        if not b.expansion_ratio >= 1.0:
            raise ConfigError(f"chain: band {i} ({b.centre_hz:g} Hz): expansion_ratio must be >= 1, "
                              f"got {b.expansion_ratio}")
    values = [params.full_scale_db_spl, params.broadband_mpo_db_spl, params.volume_db]
    values += [v for b in params.bands for v in (b.gain_50_db, b.gain_65_db, b.gain_80_db, b.mpo_db_spl)]
    if not all(math.isfinite(v) for v in values):
        raise ConfigError("chain: levels, gains and MPOs must be finite numbers")


class HearingAidChain:
    """WDRC bands + volume + MPO in the STFT frame, then a broadband look-ahead limiter.

    Build it with :func:`build_chain`. ``set_volume_db`` may be called between hops (it swaps a
    prebuilt table; call it from the control thread, not the audio callback). ``control_hops``
    sets the control rate (module doc; 1 = gains computed on every hop), and
    ``control_hop_count`` counts the control hops since the last reset.
    """

    def __init__(self, params: ChainParams, contract, control_hops: int = CONTROL_HOPS):
        check_params(params)
        contract.validate()
        if not (isinstance(control_hops, int) and control_hops >= 1):
            raise ConfigError(f"chain: control_hops must be a whole number >= 1, got {control_hops!r}")
        self.params = params
        self.control_hops = control_hops
        fs, n, h = contract.sample_rate_hz, contract.frame_samples, contract.hop_samples
        self.sample_rate_hz, self.hop_samples = fs, h
        window = window_pair(n, h, contract.window)[0]
        nb = len(params.bands)
        self.bands = nb
        centres = [b.centre_hz for b in params.bands]
        self.band_of_bin = bin_bands(params.crossovers_hz, n, fs)
        power = band_power_matrix(self.band_of_bin, nb, window, params.full_scale_db_spl)
        spread = band_gain_matrix(self.band_of_bin, centres, n, h, contract.window, fs)
        # detector constants from the ANSI S3.22 attack/release definitions, through this frame
        att, rel, self.achieved_attack_ms, self.achieved_release_ms = detector_coefficients(
            params.bands, window, h, fs, control_hops, ONSET_DB)
        self._levels = np.arange(TABLE_MIN_DB_SPL, TABLE_MAX_DB_SPL + TABLE_STEP_DB / 2, TABLE_STEP_DB)
        grid = self._levels.shape[0]
        bins = contract.bins
        self._p_lo = np.float32(10.0 ** (TABLE_MIN_DB_SPL / 10.0))
        self._p_hi = np.float32(10.0 ** (TABLE_MAX_DB_SPL / 10.0))
        lim = 10.0 ** (-params.noise_reduction_db / 20.0)
        self._nr_mode = "noisy" if lim >= 1.0 else ("mix" if lim > 0.0 else "enhanced")
        # the mix (1 - lim) enhanced + lim noisy is formed as enhanced + lim / (1 - lim) noisy, with
        # the factor (1 - lim) folded into the band-power matrix (squared) and the bin gains
        keep = 1.0 - lim if self._nr_mode == "mix" else 1.0
        self._noisy_weight = np.float32(lim / keep if self._nr_mode == "mix" else 0.0)
        # band power P + P_lo in one product: the squared spectrum carries a constant 1 at its end
        power = power * keep * keep
        self._power = np.concatenate([power, np.full((nb, 1), self._p_lo)], axis=1).astype(np.float32)
        self._spread = (spread * keep).astype(np.float32)
        # The detector state is the (float) gain-table index of each band, E = s * D + o: D the
        # level in bels, s = 10 / step, o = the band's table offset + 0.5 (truncation rounds).
        # One matrix product of v = [E; log10 P; 1] gives both smoother branches and the
        # exponents of what exp() turns into linear factors: rows 0..nb-1 (1 - a) E + a (s L + o),
        # rows nb..2nb-1 the same with r, then (one exp for all) rows 2nb..3nb-1 z = p ln10 (L -
        # L_ref) (the coupling weights, from this very frame: leakage is instantaneous, and all
        # bands read the same frame), rows 3nb..4nb-1 the onset thresholds' ln(10 ** (D / 10) *
        # 10 ** (ONSET_DB / 10) / k) (D the detector level before this update, in dB; k the
        # calibration factor of one squared spectrum value: the threshold in the spectrum's own
        # units), rows 4nb..5nb-1 the MPO caps' exponents ln10 / 2 (log10 P_mpo - L); then
        # E = max(branch a, branch r) (attack while rising, release while falling, as a > r).
        self._scale = 10.0 / TABLE_STEP_DB
        self._offset = -TABLE_MIN_DB_SPL / TABLE_STEP_DB + 0.5 + grid * np.arange(nb)
        self._mpo_bels = np.array([b.mpo_db_spl / 10.0 for b in params.bands])
        # onset thresholds in the spectrum's units: 10 ** (ONSET_DB / 10) / k, k the calibration
        # factor of one squared spectrum value
        self._onset_log = math.log(10.0 ** (ONSET_DB / 10.0) / float(np.max(power)))
        self._det = np.asfortranarray(self._detector_matrix(att, rel))
        self._v = np.zeros(2 * nb + 1, np.float32)
        self._v[2 * nb] = 1.0
        self._e, self._lg = self._v[:nb], self._v[nb:2 * nb]  # state E; this frame's log10 P
        self._u = np.zeros(5 * nb, np.float32)
        self._u_att, self._u_rel, self._z = self._u[:nb], self._u[nb:2 * nb], self._u[2 * nb:]
        leak = leakage_matrix(self.band_of_bin, centres, n, h, contract.window, fs)
        coupling = (leak / COUPLING_MARGIN) ** COUPLING_POWER
        np.fill_diagonal(coupling, 1.0)
        # one matrix-vector product of [w g | w | q] gives the coupling's numerators C (w g), its
        # denominators C w and the onset threshold summed over bands (Fortran order: the faster
        # BLAS path for these shapes, as for the tall band-gain spread below)
        couple = np.zeros((2 * nb + 1, 3 * nb))
        couple[:nb, :nb] = couple[nb:2 * nb, nb:2 * nb] = coupling
        couple[2 * nb, 2 * nb:] = 1.0
        self._couple = np.asfortranarray(couple, np.float32)
        self._wgm = np.zeros(4 * nb, np.float32)  # w * g | w | q | MPO cap
        self._wgq = self._wgm[:3 * nb]
        self._w_m, self._w, self._mpo_gain = self._wgm[nb:], self._wgm[nb:2 * nb], self._wgm[3 * nb:]
        self._num_den = np.zeros(2 * nb + 1, np.float32)
        self._wg0, self._num, self._den = self._wgm[:nb], self._num_den[:nb], self._num_den[nb:2 * nb]
        self._onset_at = 2 * nb  # index of the summed onset threshold
        self.ceiling = sample_ceiling(params.broadband_mpo_db_spl, params.full_scale_db_spl)
        look = int(round(params.limiter_lookahead_ms * fs / 1000.0))
        self._limiter = PeakLimiter(h, look, self.ceiling, LIMITER_RELEASE_MS, fs)
        self.latency_samples = self._limiter.latency_samples
        self._tmp = np.zeros((2, bins), np.float32)
        self._sq_ext = np.ones(2 * bins + 1, np.float32)
        self._sq = self._sq_ext[:2 * bins].reshape(2, bins)
        self._p = np.zeros(nb, np.float32)
        self._idx = np.zeros(nb, np.intp)
        self._band_gain = np.zeros(nb, np.float32)
        # the bin gains for both rows of [re; im] (a same-shape multiply is cheaper than a broadcast)
        self._spread2 = np.asfortranarray(np.concatenate([self._spread, self._spread], axis=0))
        self._bin_gain2 = np.zeros((2, bins), np.float32)
        self._bin_gain = self._bin_gain2[0]
        self.volume_db = 0.0
        self._table = None
        self.set_volume_db(params.volume_db)
        self.reset()
        # the per-hop calls, bound once (500 hops a second): instance attributes over the methods
        self.process_spectrum, self._reset_control, self._control_count = self._spectrum_kernel()
        self.process_hop = self._limiter.process

    def _detector_matrix(self, att: np.ndarray, rel: np.ndarray) -> np.ndarray:
        """``(5 nb, 2 nb + 1)`` float32: ``u = M @ [E; log10 P; 1]`` for update coefficients ``att``, ``rel``."""
        nb, s, o, ln10 = self.bands, self._scale, self._offset, math.log(10.0)
        k = COUPLING_POWER * ln10
        det = np.zeros((5 * nb, 2 * nb + 1))
        for b in range(nb):
            for row, c in ((b, att[b]), (nb + b, rel[b])):
                det[row, b] = 1.0 - c
                det[row, nb + b] = c * s
                det[row, 2 * nb] = c * o[b]
            det[2 * nb + b, nb + b] = k
            det[2 * nb + b, 2 * nb] = -k * COUPLING_REFERENCE_DB_SPL / 10.0
            # onset threshold exp(ln10 D + onset_log), D = (E - o) / s in bels: the detector as it
            # stood before this update
            det[3 * nb + b, b] = ln10 / s
            det[3 * nb + b, 2 * nb] = -ln10 * o[b] / s + self._onset_log
            # band MPO cap sqrt(P_mpo / P) = exp(ln10 / 2 (log10 P_mpo - log10 P))
            det[4 * nb + b, nb + b] = -0.5 * ln10
            det[4 * nb + b, 2 * nb] = 0.5 * ln10 * self._mpo_bels[b]
        return det.astype(np.float32)

    @property
    def control_hop_count(self) -> int:
        """Control hops (band levels, detectors and gains computed) since the last reset."""
        return self._control_count()

    def set_volume_db(self, volume_db: float) -> float:
        """Set the volume (dB), clipped to the preset's limits; returns the volume applied."""
        v = float(min(max(volume_db, self.params.volume_min_db), self.params.volume_max_db))
        table_db = gain_table_db(self.params.bands, self._levels, v, mpo=False)
        self._table = (10.0 ** (table_db / 20.0)).astype(np.float32).reshape(-1)
        self.volume_db = v
        return v

    @property
    def band_levels_db_spl(self) -> np.ndarray:
        """The detectors' band levels now (dB SPL), a copy."""
        return 10.0 * (self._e.astype(float) - self._offset) / self._scale

    @property
    def limited_hops(self) -> int:
        """Hops in which the broadband limiter reduced gain since the last reset."""
        return self._limiter.limited_hops

    def reset(self) -> None:
        self._e[:] = self._offset + self._scale * TABLE_MIN_DB_SPL / 10.0  # silence before the first hop
        self._limiter.reset()
        if hasattr(self, "_reset_control"):
            self._reset_control()  # the next hop is a control hop

    def process_spectrum(self, noisy: np.ndarray, enhanced: np.ndarray) -> None:
        """Noise-reduction limit, band detectors and band gains on ``enhanced`` (2, bins), in place.

        (Documentation: each chain binds its own closure over these steps as the instance
        attribute ``process_spectrum`` at construction, see :meth:`_spectrum_kernel`.)
        """
        self.__dict__["process_spectrum"](noisy, enhanced)

    def process_hop(self, samples: np.ndarray) -> np.ndarray:
        """Broadband look-ahead limiter and MPO ceiling on one synthesised hop (internal buffer).

        (Bound at construction to the limiter's own per-hop closure.)
        """
        return self._limiter.process(samples)

    def _spectrum_kernel(self):
        """The per-hop spectrum work as one closure over this chain's buffers (locals only).

        Every numpy call is a method or a ufunc with positional output on same-shape float32
        arrays: keyword arguments and broadcasting each cost about as much as the arithmetic on
        arrays this small (a few hundred ns per call).
        """
        mul, add, div, log10, exp = np.multiply, np.add, np.divide, np.log10, np.exp
        fmin, fmax = np.fmin, np.fmax  # fmin(NaN, cap) = cap: a NaN level or gain takes the cap
        tmp, sq, sq_ext, p, lg, v, u = self._tmp, self._sq, self._sq_ext, self._p, self._lg, self._v, self._u
        onset_at = self._onset_at
        power_dot, det_dot = self._power.dot, self._det.dot
        u_att, u_rel, e, idx, g = self._u_att, self._u_rel, self._e, self._idx, self._band_gain
        p_hi = np.full(p.shape, self._p_hi, np.float32)  # (same-shape ufuncs are the fast ones)
        z, w_m, mpo_gain, w, wg0, wgq = self._z, self._w_m, self._mpo_gain, self._w, self._wg0, self._wgq
        couple_dot, num_den, num, den = self._couple.dot, self._num_den, self._num, self._den
        spread_dot, bin_gain2 = self._spread2.dot, self._bin_gain2
        chain, period = self, self.control_hops
        mix, copy = self._nr_mode == "mix", self._nr_mode == "noisy"
        # everything per bin works on flat [re | im] views (1-D ufuncs and dots are the cheapest)
        sq_f, gain_f = sq.reshape(-1), bin_gain2.reshape(-1)
        # BLAS level 1 through scipy's thin wrappers: saxpy (y += a x, in place) and sdot (a
        # Python float back) cost half a numpy ufunc call or less on arrays this small
        size, weight = sq_f.shape[0], float(self._noisy_weight)
        axpy = saxpy if _saxpy_works_in_place() else _numpy_axpy
        since = period  # hops since the last control hop (>= period: this hop is one)
        onset = 0.0  # sum of squares of the spectrum above which a hop is a control hop early
        held_e = held_n = e_f = n_f = None  # the spectra of the last call, and their flat views
        controls = 0
        copy_e, copy_n = np.zeros_like(tmp), np.zeros_like(tmp)  # for spectra not C-contiguous float32

        def process_spectrum(noisy, enhanced):
            nonlocal since, onset, held_e, held_n, e_f, n_f, controls
            if enhanced is not held_e or noisy is not held_n:  # (the enhancer passes the same arrays)
                if not (enhanced.flags.c_contiguous and noisy.flags.c_contiguous
                        and enhanced.dtype == noisy.dtype == np.float32):
                    copy_e[...], copy_n[...] = enhanced, noisy
                    process_spectrum(copy_n, copy_e)
                    enhanced[...] = copy_e
                    return
                held_e, held_n, e_f, n_f = enhanced, noisy, enhanced.reshape(-1), noisy.reshape(-1)
            if mix:  # enhanced + lim / (1 - lim) noisy; (1 - lim) is in _power, _spread
                axpy(n_f, e_f, size, weight)
            elif copy:
                e_f[...] = n_f
            if since < period and sdot(e_f, e_f) <= onset:  # no control hop, no onset
                since += 1
                mul(e_f, gain_f, e_f)  # the last control hop's bin gains
                return
            # the control hop: band levels, detectors, table, caps, coupling -> the bin gains
            since = 1
            controls += 1
            mul(e_f, e_f, sq_f)
            power_dot(sq_ext, p)  # calibrated band power + P_lo, 10 ** (dB SPL / 10)
            fmin(p, p_hi, p)  # the gain table's level range
            log10(p, lg)  # band level in bels
            det_dot(v, u)  # detector branches, the exponents of w, q and m
            fmax(u_att, u_rel, e)  # detector: table index (float)
            idx[...] = e  # truncation of E (which holds + 0.5): the rounded index
            chain._table.take(idx, None, g, "clip")
            exp(z, w_m)  # coupling weights w, onset thresholds q, band MPO caps m
            fmin(g, mpo_gain, g)  # MPO before the coupling: leakage bands take the cap
            mul(w, g, wg0)  # coupling: g' = C (w g) / C w
            couple_dot(wgq, num_den)  # and the onset threshold: sum of q
            onset = num_den.item(onset_at)
            div(num, den, g)
            fmin(g, mpo_gain, g)  # and after it: no band above its own cap
            spread_dot(g, gain_f)  # band gains onto the bins
            mul(e_f, gain_f, e_f)

        def reset_control():
            nonlocal since, onset, controls
            since, onset, controls = period, 0.0, 0

        process_spectrum.__doc__ = HearingAidChain.process_spectrum.__doc__
        return process_spectrum, reset_control, lambda: controls


def build_chain(params: ChainParams, contract, control_hops: int = CONTROL_HOPS) -> HearingAidChain:
    """The hearing-aid chain for ``params`` in ``contract``'s STFT frame (a HopChain)."""
    return HearingAidChain(params, contract, control_hops)
