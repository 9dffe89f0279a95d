"""The static I/O curve (hearsep.chain.curves), checked at points stated by the parameters."""

import numpy as np

from hearsep.chain import BandParams, band_gain_db, band_output_db_spl, compression_ratio


def test_gain_passes_through_the_three_fitting_points_and_holds_the_end_slopes():
    b = BandParams(1000.0, 30.0, 24.0, 15.0, 5.0, 50.0, 115.0)
    assert np.allclose(band_gain_db(b, [50, 65, 80]), [30.0, 24.0, 15.0])
    # 50 -> 65 slope (-0.4 dB/dB) held below 50, 65 -> 80 slope (-0.6 dB/dB) held above 80
    assert np.allclose(band_gain_db(b, [40, 90]), [34.0, 9.0])
    assert abs(compression_ratio(b, 65, 80) - 1 / 0.4) < 1e-9
    assert abs(compression_ratio(b, 50, 65) - 1 / 0.6) < 1e-9


def test_expansion_below_its_threshold_and_gain_held_below_the_compression_threshold():
    b = BandParams(1000.0, 30.0, 24.0, 15.0, 5.0, 50.0, 115.0, expansion_threshold_db_spl=40.0,
                   expansion_ratio=2.0)
    # at 40 dB the compressor gives 34 dB; each dB below 40 loses one more dB of gain (ER 2)
    assert np.allclose(band_gain_db(b, [40, 30, 20]), [34.0, 24.0, 14.0])
    out = band_output_db_spl(b, np.array([30.0, 20.0]))
    assert np.allclose(np.diff(out), -20.0)  # output falls 2 dB per input dB
    held = BandParams(1000.0, 30.0, 24.0, 15.0, 5.0, 50.0, 115.0, compression_threshold_db_spl=55.0)
    assert np.allclose(band_gain_db(held, [55, 45, 35]), [28.0, 28.0, 28.0])


def test_output_is_capped_by_band_and_broadband_mpo_and_shifted_by_volume():
    b = BandParams(1000.0, 30.0, 30.0, 30.0, 5.0, 50.0, 100.0)
    assert np.allclose(band_output_db_spl(b, [50, 65, 80]), [80.0, 95.0, 100.0])
    assert np.allclose(band_output_db_spl(b, [50, 65], volume_db=-6.0), [74.0, 89.0])
    assert np.allclose(band_output_db_spl(b, [50, 65], broadband_mpo_db_spl=90.0), [80.0, 90.0])
