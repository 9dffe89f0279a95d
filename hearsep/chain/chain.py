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
   (:func:`hearsep.chain.curves.gain_table_db`, a table at 0.1 dB steps of level), capped so
   that this hop's band output stays at or under the band MPO (output limiting without attack
   time: ``gain <= mpo_db_spl - L`` with ``L`` the band level of this very frame);
5. band gains spread onto the bins so that a tone at each band centre gets its band's gain
   through the short synthesis window (:func:`hearsep.chain.bands.band_gain_matrix`).

Per synthesised hop (``process_hop``): the broadband look-ahead peak limiter and the hard
ceiling at the broadband MPO (:mod:`hearsep.chain.limiter`); its look-ahead is the chain's only
latency (``latency_samples``). All buffers are allocated here; the per-hop calls allocate no
arrays, and as the enhancer calls the chain once per whole hop, the output is bit-identical
however the input is chunked.
"""

from __future__ import annotations

import math

import numpy as np

from hearsep.chain.bands import band_gain_matrix, band_power_matrix, bin_bands
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
        self.band_of_bin = bin_bands(params.crossovers_hz, n, fs)
        power = band_power_matrix(self.band_of_bin, nb, window, params.full_scale_db_spl)
        spread = band_gain_matrix(self.band_of_bin, [b.centre_hz for b in params.bands], n, h, contract.window, fs)
        # detector constants from the ANSI S3.22 attack/release definitions, through this frame
        att, rel, self.achieved_attack_ms, self.achieved_release_ms = detector_coefficients(
            params.bands, window, h, fs)
        self._rates = np.stack([att, rel]).astype(np.float32)  # (2, bands)
        self._levels = np.arange(TABLE_MIN_DB_SPL, TABLE_MAX_DB_SPL + TABLE_STEP_DB / 2, TABLE_STEP_DB)
        grid = self._levels.shape[0]
        self._index_scale = np.float32(10.0 / TABLE_STEP_DB)  # detector works in bels (dB / 10)
        self._index_offset = (-TABLE_MIN_DB_SPL / TABLE_STEP_DB + 0.5 + grid * np.arange(nb)).astype(np.float32)
        # band MPO as a linear gain cap: 10 ** ((mpo - L) / 20) = sqrt(P_mpo / P)
        self._mpo_power = np.array([10.0 ** (b.mpo_db_spl / 10.0) for b in params.bands], np.float32)
        self._p_lo = np.float32(10.0 ** (TABLE_MIN_DB_SPL / 10.0))
        self._p_hi = np.float32(10.0 ** (TABLE_MAX_DB_SPL / 10.0))
        lim = 10.0 ** (-params.noise_reduction_db / 20.0)
        self._nr_mode = "noisy" if lim >= 1.0 else ("mix" if lim > 0.0 else "enhanced")
        # the mix (1 - lim) enhanced + lim noisy is formed as enhanced + lim / (1 - lim) noisy, with
        # the factor (1 - lim) folded into the band-power matrix (squared) and the bin gains
        keep = 1.0 - lim if self._nr_mode == "mix" else 1.0
        self._noisy_weight = np.float32(lim / keep if self._nr_mode == "mix" else 0.0)
        self._power = (power * keep * keep).astype(np.float32)
        self._spread = (spread * keep).astype(np.float32)
        self.ceiling = sample_ceiling(params.broadband_mpo_db_spl, params.full_scale_db_spl)
        look = int(round(params.limiter_lookahead_ms * fs / 1000.0))
        self._limiter = PeakLimiter(h, look, self.ceiling, LIMITER_RELEASE_MS, fs)
        self.latency_samples = self._limiter.latency_samples
        bins = contract.bins
        self._tmp = np.zeros((2, bins), np.float32)
        self._sq = np.zeros((2, bins), np.float32)
        self._sq_flat = self._sq.reshape(-1)
        self._p = np.zeros(nb, np.float32)
        self._d = np.zeros(nb, np.float32)
        self._steps = np.zeros((2, nb), np.float32)
        self._step_a, self._step_r = self._steps[0], self._steps[1]
        self._idx = np.zeros(nb, np.intp)
        self._band_gain = np.zeros(nb, np.float32)
        self._mpo_gain = np.zeros(nb, np.float32)
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
        return 10.0 * self._d.astype(float)

    @property
    def limited_hops(self) -> int:
        """Hops in which the broadband limiter reduced gain since the last reset."""
        return self._limiter.limited_hops

    def reset(self) -> None:
        self._d.fill(TABLE_MIN_DB_SPL / 10.0)  # silence before the first hop
        self._limiter.reset()

    def process_spectrum(self, noisy: np.ndarray, enhanced: np.ndarray) -> None:
        """Noise-reduction limit, band detectors and band gains on ``enhanced`` (2, bins), in place."""
        if self._nr_mode == "mix":  # enhanced + lim / (1 - lim) noisy; (1 - lim) is in _power, _spread
            np.multiply(noisy, self._noisy_weight, out=self._tmp)
            np.add(enhanced, self._tmp, out=enhanced)
        elif self._nr_mode == "noisy":
            enhanced[:] = noisy
        p = self._p
        np.multiply(enhanced, enhanced, out=self._sq)
        np.dot(self._power, self._sq_flat, out=p)  # calibrated band power, 10 ** (dB SPL / 10)
        np.maximum(p, self._p_lo, out=p)  # the gain table's level range (two ufuncs beat np.clip)
        np.minimum(p, self._p_hi, out=p)
        m = self._mpo_gain
        np.divide(self._mpo_power, p, out=m)
        np.sqrt(m, out=m)  # the gain that puts this frame's band level at its MPO
        np.log10(p, out=p)  # band level in bels
        np.subtract(p, self._d, out=p)
        np.multiply(self._rates, p, out=self._steps)  # attack while rising, release while falling
        np.maximum(self._step_a, self._step_r, out=p)
        np.add(self._d, p, out=self._d)
        np.multiply(self._d, self._index_scale, out=p)
        np.add(p, self._index_offset, out=self._idx, casting="unsafe")  # rounded table index
        np.take(self._table, self._idx, out=self._band_gain, mode="clip")
        np.minimum(self._band_gain, m, out=self._band_gain)
        np.dot(self._spread, self._band_gain, out=self._bin_gain)  # band gains onto the bins
        np.multiply(enhanced, self._bin_gain, out=enhanced)

    def process_hop(self, samples: np.ndarray) -> np.ndarray:
        """Broadband look-ahead limiter and MPO ceiling on one synthesised hop (internal buffer)."""
        return self._limiter.process(samples)


def build_chain(params: ChainParams, contract) -> HearingAidChain:
    """The hearing-aid chain for ``params`` in ``contract``'s STFT frame (a HopChain)."""
    return HearingAidChain(params, contract)
