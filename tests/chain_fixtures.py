"""Hand-built chain parameters for the chain and test-box tests (independent of hearsep.fitting)."""

from __future__ import annotations

from hearsep.chain import BandParams, ChainParams
from hearsep.model.contract import ModelContract

CENTRES_HZ = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 6000.0)
CROSSOVERS_HZ = (354.0, 707.0, 1414.0, 2828.0, 4899.0)


def contract(hop: int = 32, frame: int = 256) -> ModelContract:
    """The default framing: 16 kHz, 256-sample asymmetric frame, 2 ms hop, 4 ms synthesis."""
    return ModelContract(16000, frame, hop, 2 * hop)


def compressive_band(centre_hz: float, ratio: float, gain_65_db: float, attack_ms: float = 5.0,
                     release_ms: float = 50.0, mpo_db_spl: float = 125.0, **kw) -> BandParams:
    """One compression ratio from 50 to 80 dB SPL: gain falls (1 - 1/CR) dB per input dB."""
    slope = 1.0 / ratio - 1.0
    return BandParams(centre_hz, gain_65_db - 15.0 * slope, gain_65_db, gain_65_db + 15.0 * slope,
                      attack_ms, release_ms, mpo_db_spl, **kw)


def wdrc_params(ratio: float = 2.0, attack_ms: float = 5.0, release_ms: float = 50.0,
                gains_65_db=(5.0, 10.0, 18.0, 25.0, 30.0, 30.0), full_scale_db_spl: float = 130.0,
                mpo_db_spl: float = 128.0, **kw) -> ChainParams:
    """Six octave bands, a sloping (high-frequency) gain, one compression ratio everywhere."""
    bands = tuple(compressive_band(f, ratio, g, attack_ms, release_ms, mpo_db_spl)
                  for f, g in zip(CENTRES_HZ, gains_65_db))
    return ChainParams(CROSSOVERS_HZ, bands, full_scale_db_spl, mpo_db_spl, **kw)
