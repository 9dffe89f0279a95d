"""Band levels in the STFT frame: calibration dBFS -> dB SPL, and bins grouped between crossovers."""

import numpy as np
import pytest

from chain_fixtures import CROSSOVERS_HZ
from hearsep.chain.bands import band_levels_db_spl, band_power_matrix, bin_bands
from hearsep.errors import ConfigError
from hearsep.features.stft import analysis_frames, window_pair


@pytest.mark.parametrize("frequency_hz", [500.0, 1000.0, 2000.0, 4000.0, 1100.0])
@pytest.mark.parametrize("level_dbfs", [-60.0, -20.0, 0.0])
def test_a_sine_at_x_dbfs_reads_x_plus_full_scale_db_spl(frequency_hz, level_dbfs):
    fs, full_scale = 16000, 112.0
    w = window_pair(256, 32)[0]
    bands = bin_bands(CROSSOVERS_HZ, 256, fs)
    matrix = band_power_matrix(bands, 6, w, full_scale)
    t = np.arange(4096) / fs
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * frequency_hz * t + 0.3)
    spectrum = analysis_frames(x, 256, 32)[-1]
    levels = band_levels_db_spl(np.stack([spectrum.real, spectrum.imag]), matrix)
    band = int(np.searchsorted(CROSSOVERS_HZ, frequency_hz))
    # the band holding the tone reads its level (window leakage outside the band: < 0.1 dB)
    assert abs(levels[band] - (level_dbfs + full_scale)) < 0.1
    assert np.all(np.delete(levels, band) < levels[band] - 15.0)


def test_each_bin_in_the_band_its_centre_frequency_falls_in():
    bands = bin_bands(CROSSOVERS_HZ, 256, 16000)
    freqs = np.arange(129) * 62.5
    assert bands[0] == 0 and bands[-1] == 5
    assert np.all(np.diff(bands) >= 0)
    for b, (lo, hi) in enumerate(zip((0.0,) + CROSSOVERS_HZ, CROSSOVERS_HZ + (8001.0,))):
        assert np.all((freqs[bands == b] >= lo) & (freqs[bands == b] < hi))


def test_crossovers_out_of_order_or_too_close_are_refused_naming_the_field():
    with pytest.raises(ConfigError, match="crossovers_hz"):
        bin_bands((1000.0, 500.0), 256, 16000)
    with pytest.raises(ConfigError, match="no STFT bin"):
        band_power_matrix(bin_bands((1001.0, 1010.0), 256, 16000), 3, window_pair(256, 32)[0], 110.0)
