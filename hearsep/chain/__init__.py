"""The hearing-aid chain after the separator: band gains (WDRC), volume, MPO limiter."""

from hearsep.chain.chain import HearingAidChain, build_chain
from hearsep.chain.curves import band_for_frequency, band_gain_db, band_output_db_spl, compression_ratio
from hearsep.chain.params import BandParams, ChainParams

__all__ = ["BandParams", "ChainParams", "HearingAidChain", "band_for_frequency", "band_gain_db",
           "band_output_db_spl", "build_chain", "compression_ratio"]
