"""The evaluation core: block-wise counts, partial overlap, per-class sums (no QGIS needed)."""

import numpy as np
from evaluation_helpers import LABEL, expected_counts, read, shifted_and_perturbed, write
from osgeo import gdal

from algorithms.core.evaluation.evaluate import evaluate
from algorithms.core.evaluation.metrics import PRESETS
from algorithms.core.run import RunContext

MASK = PRESETS['mask']


def test_counts_and_error_map_do_not_depend_on_the_block_size(tmp_path):
    prediction = write(tmp_path / 'p.tif', shifted_and_perturbed(read(LABEL)))
    whole = evaluate(prediction, LABEL, MASK, MASK, error_map=str(tmp_path / 'a.tif'))
    blocks = evaluate(prediction, LABEL, MASK, MASK, error_map=str(tmp_path / 'b.tif'),
                      block_size=100)  # 36 blocks, ragged at the edges
    assert whole.confusion == blocks.confusion
    np.testing.assert_array_equal(read(str(tmp_path / 'a.tif')), read(str(tmp_path / 'b.tif')))
    assert sum(pixels for pixels, _ in blocks.per_class.values()) == blocks.confusion.total
    assert blocks.per_class[1][1] == blocks.confusion.tp  # cloud pixels called cloud


def test_ground_truth_covering_half_the_prediction(tmp_path):
    label = read(LABEL)
    x0, dx, _, y0, _, dy = gdal.Open(LABEL).GetGeoTransform()
    half = write(tmp_path / 'half.tif', label[:, 256:], geotransform=(x0 + 256 * dx, dx, 0, y0,
                                                                     0, dy))
    progress = []
    result = evaluate(LABEL, half, MASK, MASK, run_context=RunContext(progress=progress.append),
                      block_size=128)
    assert 'about 50.0 %' in result.notes[0]
    # Only the extent differs, and the note says that and nothing else.
    assert 'its extent differs' in result.notes[0]
    assert 'CRS' not in result.notes[0] and 'pixel size' not in result.notes[0]
    valid = np.zeros(label.shape, bool)
    valid[:, 256:] = True
    assert result.confusion.__dict__ == {k.lower(): v for k, v in expected_counts(
        label == 1, label == 1, valid).items()}
    assert progress[-1] == 100 and progress == sorted(progress)


def test_per_class_breakdown_of_signed_and_unsigned_ground_truth(tmp_path):
    label = read(LABEL)
    codes = np.where(label == 1, 2, 5).astype(np.int16)  # ALCD cloud / land
    codes[:, :100] = np.where(label[:, :100] == 1, 3, 7)
    prediction = write(tmp_path / 'p.tif', shifted_and_perturbed(label))
    signed = evaluate(prediction, write(tmp_path / 's.tif', codes, nodata=None), MASK,
                      PRESETS['alcd'])
    unsigned = evaluate(prediction, write(tmp_path / 'u.tif', codes.astype(np.uint8),
                                          nodata=None), MASK, PRESETS['alcd'])
    assert signed.per_class == unsigned.per_class and sorted(signed.per_class) == [2, 3, 5, 7]
    assert signed.confusion == unsigned.confusion


def test_a_multiband_ground_truth_is_said_to_be_read_on_band_1(tmp_path):
    label = read(LABEL)
    path = str(tmp_path / 'two_bands.tif')
    gdal.Translate(path, LABEL, bandList=[1, 1])
    result = evaluate(LABEL, path, MASK, MASK)
    assert result.notes == ['The ground truth has 2 bands; only band 1 was evaluated.']
    assert result.confusion.tp == int(np.sum(label == 1))


def test_a_half_pixel_shift_is_another_grid(tmp_path):
    x0, dx, _, y0, _, dy = gdal.Open(LABEL).GetGeoTransform()
    shifted = write(tmp_path / 'shifted.tif', read(LABEL),
                    geotransform=(x0 + 5, dx, 0, y0, 0, dy))
    assert evaluate(LABEL, shifted, MASK, MASK).regridded
    assert not evaluate(LABEL, write(tmp_path / 'same.tif', read(LABEL)), MASK, MASK).regridded


def test_bar_charts_start_at_zero():
    from algorithms.core.plots import _lower_limit

    high = {('cnn', 'a'): {'fscore': 0.91}, ('cnn', 'b'): {'fscore': 0.95}}
    assert _lower_limit(high, 'fscore') == 0.0  # differences of a few 0.01 are not magnified
    assert _lower_limit({('cnn', 'a'): {'kappa': -0.23}}, 'kappa') == -0.3
