"""The hearing-aid chain after the separator, as a :class:`hearsep.runtime.enhancer.HopChain`.

Per hop, in the enhancer's STFT frame (``process_spectrum``):

1. noise-reduction strength: ``enhanced = (1 - lim) * enhanced + lim * noisy`` with
   ``lim = 10 ** (-noise_reduction_db / 20)``, so the output is never more than
   ``noise_reduction_db`` below the input for masks in [0, 1] (DeepFilterNet's ``atten_lim_db``,
   ``df/enhance.py``: ``torch.lerp(enhanced, noisy, lim)``; Schroeter et al. 2022);
2. band levels (dB SPL) from the calibrated band power (:mod:`hearsep.chain.bands`);
3. a per-band level detector with attack/release coefficients derived from the ANSI S3.22
   times (:mod:`hearsep.chain.dynamics`);
4. band gain = static curve at the detector level with volume added
   (:func:`hearsep.chain.curves.gain_table_db`, a table at 0.1 dB steps of level);
5. across-band gain coupling (after the cap of step 6): a band whose level is about what a louder band leaks into it
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
6. capped so that this hop's band output stays at or under the band MPO (output limiting
   without attack time: ``gain <= mpo_db_spl - L`` with ``L`` the band level of this very frame;
   applied before the coupling and again after it);
7. band gains spread onto the bins with short-impulse-response band shapes corrected so that a
   tone at each band centre gets its band's gain through the short synthesis window
   (:func:`hearsep.chain.bands.band_gain_matrix`).

Per synthesised hop (``process_hop``): the broadband look-ahead peak limiter and the hard
ceiling at the broadband MPO (:mod:`hearsep.chain.limiter`); its look-ahead is the chain's only
latency (``latency_samples``). All buffers are allocated here; the per-hop calls allocate no
arrays, and as the enhancer calls the chain once per whole hop, the output is bit-identical
however the input is chunked.
"""

from __future__ import annotations

import math

import numpy as np

from hearsep.chain.bands import band_gain_matrix, band_power_matrix, bin_bands, leakage_matrix
from hearsep.chain.curves import gain_table_db
from hearsep.chain.dynamics import detector_coefficients
from hearsep.chain.limiter import PeakLimiter, sample_ceiling
from hearsep.chain.params import ChainParams
from hearsep.errors import ConfigError
from hearsep.features.stft import window_pair

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
    prebuilt table; call it from the control thread, not the audio callback).
    """

    def __init__(self, params: ChainParams, contract):
        check_params(params)
        contract.validate()
        self.params = params
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
            params.bands, window, h, fs)
        self._levels = np.arange(TABLE_MIN_DB_SPL, TABLE_MAX_DB_SPL + TABLE_STEP_DB / 2, TABLE_STEP_DB)
        grid = self._levels.shape[0]
        # The detector state is the (float) gain-table index of each band, E = s * D + o: D the
        # level in bels, s = 10 / step, o = the band's table offset + 0.5 (truncation rounds).
        # One matrix product of v = [E; log10 P; 1] gives both smoother branches and the coupling
        # exponents: rows 0..nb-1 (1 - a) E + a (s L + o), rows nb..2nb-1 the same with r, rows
        # 2nb..3nb-1 z = p ln10 (L - L_ref) (the coupling weights, from this very frame: leakage
        # is instantaneous, and all bands read the same frame), rows 3nb..4nb-1 the MPO caps'
        # exponents ln10 / 2 (log10 P_mpo - L); then
        # E = max(branch a, branch r) (attack while rising, release while falling, as a > r).
        self._scale = 10.0 / TABLE_STEP_DB
        self._offset = -TABLE_MIN_DB_SPL / TABLE_STEP_DB + 0.5 + grid * np.arange(nb)
        k = COUPLING_POWER * math.log(10.0)
        self._mpo_bels = np.array([b.mpo_db_spl / 10.0 for b in params.bands])
        det = np.zeros((4 * nb, 2 * nb + 1))
        for b in range(nb):
            for row, c in ((b, att[b]), (nb + b, rel[b])):
                det[row, b] = 1.0 - c
                det[row, nb + b] = c * self._scale
                det[row, 2 * nb] = c * self._offset[b]
            det[2 * nb + b, nb + b] = k
            det[2 * nb + b, 2 * nb] = -k * COUPLING_REFERENCE_DB_SPL / 10.0
            # band MPO cap sqrt(P_mpo / P) = exp(ln10 / 2 (log10 P_mpo - log10 P))
            det[3 * nb + b, nb + b] = -0.5 * math.log(10.0)
            det[3 * nb + b, 2 * nb] = 0.5 * math.log(10.0) * self._mpo_bels[b]
        self._det = det.astype(np.float32)
        self._v = np.zeros(2 * nb + 1, np.float32)
        self._v[2 * nb] = 1.0
        self._e, self._lg = self._v[:nb], self._v[nb:2 * nb]  # state E; this frame's log10 P
        self._u = np.zeros(4 * nb, np.float32)
        self._u_att, self._u_rel, self._z = self._u[:nb], self._u[nb:2 * nb], self._u[2 * nb:]
        leak = leakage_matrix(self.band_of_bin, centres, n, h, contract.window, fs)
        coupling = (leak / COUPLING_MARGIN) ** COUPLING_POWER
        np.fill_diagonal(coupling, 1.0)
        self._coupling_t = coupling.T.astype(np.float32)  # (bands, bands), for [w g; w] @ C^T
        self._wgm = np.zeros(3 * nb, np.float32)  # w * g | w | MPO cap
        self._wg = self._wgm[:2 * nb].reshape(2, nb)
        self._w_m, self._w, self._mpo_gain = self._wgm[nb:], self._wgm[nb:2 * nb], self._wgm[2 * nb:]
        self._num_den = np.zeros((2, nb), np.float32)
        self._wg0, self._num, self._den = self._wg[0], self._num_den[0], self._num_den[1]
        self._p_lo = np.float32(10.0 ** (TABLE_MIN_DB_SPL / 10.0))
        self._p_hi = np.float32(10.0 ** (TABLE_MAX_DB_SPL / 10.0))
        lim = 10.0 ** (-params.noise_reduction_db / 20.0)
        self._nr_mode = "noisy" if lim >= 1.0 else ("mix" if lim > 0.0 else "enhanced")
        # the mix (1 - lim) enhanced + lim noisy is formed as enhanced + lim / (1 - lim) noisy, with
        # the factor (1 - lim) folded into the band-power matrix (squared) and the bin gains
        keep = 1.0 - lim if self._nr_mode == "mix" else 1.0
        self._noisy_weight = np.float32(lim / keep if self._nr_mode == "mix" else 0.0)
        # band power P + P_lo in one product: the squared spectrum carries a constant 1 at its end
        bins = contract.bins
        self._power = np.concatenate([power * keep * keep, np.full((nb, 1), self._p_lo)], axis=1).astype(np.float32)
        self._spread = (spread * keep).astype(np.float32)
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
        self._bin_gain = np.zeros(bins, np.float32)
        self.volume_db = 0.0
        self._table = None
        self.set_volume_db(params.volume_db)
        self.reset()

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

    def process_spectrum(self, noisy: np.ndarray, enhanced: np.ndarray) -> None:
        """Noise-reduction limit, band detectors and band gains on ``enhanced`` (2, bins), in place."""
        if self._nr_mode == "mix":  # enhanced + lim / (1 - lim) noisy; (1 - lim) is in _power, _spread
            np.multiply(noisy, self._noisy_weight, out=self._tmp)
            np.add(enhanced, self._tmp, out=enhanced)
        elif self._nr_mode == "noisy":
            enhanced[:] = noisy
        p, g = self._p, self._band_gain
        np.multiply(enhanced, enhanced, out=self._sq)
        np.dot(self._power, self._sq_ext, out=p)  # calibrated band power + P_lo, 10 ** (dB SPL / 10)
        np.minimum(p, self._p_hi, out=p)  # the gain table's level range
        np.log10(p, out=self._lg)  # band level in bels
        np.dot(self._det, self._v, out=self._u)  # detector branches, coupling and MPO exponents
        np.maximum(self._u_att, self._u_rel, out=self._e)  # detector: table index (float)
        self._idx[:] = self._e  # truncation of E (which holds + 0.5): the rounded index
        np.take(self._table, self._idx, out=g, mode="clip")
        np.exp(self._z, out=self._w_m)  # coupling weights w, band MPO caps m
        np.minimum(g, self._mpo_gain, out=g)  # MPO before the coupling: leakage bands take the cap
        np.multiply(self._w, g, out=self._wg0)  # coupling: g' = C (w g) / C w
        np.dot(self._wg, self._coupling_t, out=self._num_den)
        np.divide(self._num, self._den, out=g)
        np.minimum(g, self._mpo_gain, out=g)  # and after it: no band above its own cap
        np.dot(self._spread, g, out=self._bin_gain)  # band gains onto the bins
        np.multiply(enhanced, self._bin_gain, out=enhanced)

    def process_hop(self, samples: np.ndarray) -> np.ndarray:
        """Broadband look-ahead limiter and MPO ceiling on one synthesised hop (internal buffer)."""
        return self._limiter.process(samples)


def build_chain(params: ChainParams, contract) -> HearingAidChain:
    """The hearing-aid chain for ``params`` in ``contract``'s STFT frame (a HopChain)."""
    return HearingAidChain(params, contract)
