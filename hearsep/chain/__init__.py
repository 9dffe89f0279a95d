"""The hearing-aid chain after the separator: band gains (WDRC), volume, MPO limiter."""

from hearsep.chain.params import BandParams, ChainParams

__all__ = ["BandParams", "ChainParams"]
