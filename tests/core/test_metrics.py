"""Class mappings and metrics of the evaluation core, on the real class codes of each product."""

import math

import numpy as np
import pytest

from algorithms.core.errors import MappingError
from algorithms.core.evaluation.metrics import (
    CLEAR,
    CLOUD,
    IGNORED,
    PRESETS,
    Confusion,
    mapping_for,
    parse_values,
)

X = IGNORED


@pytest.mark.parametrize('preset, codes, expected', [
    # ALCD classification_map: 0 no data, 1 not used, 2 low / 3 high cloud, 4 shadow, 5 land,
    # 6 water, 7 snow; anything else is not a class.
    ('alcd', [0, 1, 2, 3, 4, 5, 6, 7, 8], [X, X, 1, 1, 0, 0, 0, 0, X]),
    # Sen2Cor SCL: 0 no data, 1 saturated, 2 dark, 3 shadow, 4 veg, 5 bare, 6 water,
    # 7 unclassified, 8/9 cloud medium/high, 10 cirrus, 11 snow.
    ('scl', list(range(12)), [X, X, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0]),
    # Fmask: 0 land, 1 water, 2 shadow, 3 snow, 4 cloud, 255 no data; other values clear.
    ('fmask', [0, 1, 2, 3, 4, 5, 255], [0, 0, 0, 0, 1, 0, X]),
    ('mask', [0, 1, 2, 255], [0, 1, X, X]),
])
def test_presets_on_real_class_codes(preset, codes, expected):
    values = np.array(codes, dtype=np.uint8).reshape(1, -1)
    assert mapping_for(preset).classify(values).ravel().tolist() == expected


def test_band_nodata_and_nan_are_never_evaluated():
    values = np.array([[0.2, 0.5, 0.7, np.nan, -1.0]], dtype=np.float32)
    classes = mapping_for('probability', threshold=0.5).classify(values, nodata=-1.0)
    assert classes.ravel().tolist() == [CLEAR, CLOUD, CLOUD, X, X]
    assert PRESETS['mask'].classify(np.array([[0, 1]], np.uint8), nodata=0).tolist() == [[X, 1]]


def test_custom_value_lists_and_ranges():
    assert parse_values('2, 3;8-10 12') == {2, 3, 8, 9, 10, 12}
    mapping = mapping_for('custom', '8-10', '2-7 11')
    values = np.arange(13, dtype=np.uint8)
    assert mapping.classify(values).tolist() == [X, X] + [0] * 6 + [1] * 3 + [0, X]
    assert mapping.describe() == 'cloud 8-10; clear 2-7, 11; other values ignored'


@pytest.mark.parametrize('cloud, clear, message', [
    ('', '0', 'no value is mapped to cloud'),
    ('1', '', 'no value is mapped to clear'),
    ('1, 2', '2-4', r'\[2\] are listed as both cloud and clear'),
    ('1, x', '0', "'x' is not an integer or a range"),
    ('5-3', '0', 'runs backwards'),
])
def test_bad_custom_mappings_say_what_to_fix(cloud, clear, message):
    with pytest.raises(MappingError, match=message):
        mapping_for('custom', cloud, clear)


def test_unknown_preset():
    with pytest.raises(MappingError, match='unknown class preset'):
        mapping_for('sen2cloudless')


def test_metrics_match_the_paper_definitions_and_kappa_by_hand():
    c = Confusion(tp=30, tn=50, fp=5, fn=15)
    assert c.accuracy == pytest.approx(80 / 100)
    assert c.recall == pytest.approx(30 / 45)
    assert c.precision == pytest.approx(30 / 35)
    p, r = 30 / 35, 30 / 45
    assert c.fscore == pytest.approx(2 * p * r / (p + r))
    assert c.iou == pytest.approx(30 / 50)
    chance = (35 * 45 + 65 * 55) / 100 ** 2
    assert c.kappa == pytest.approx((0.8 - chance) / (1 - chance))


@pytest.mark.parametrize('counts, expected', [
    # all clear, all right: perfect
    ((0, 100, 0, 0), dict(recall=1, precision=1, fscore=1, iou=1, kappa=1)),
    # all cloud, all right: perfect
    ((100, 0, 0, 0), dict(recall=1, precision=1, fscore=1, iou=1, kappa=1)),
    # no reference cloud, some false alarms: nothing missed, all alarms false
    ((0, 90, 10, 0), dict(recall=1, precision=0, fscore=0, iou=0, kappa=0)),
    # reference cloud, nothing called cloud: all missed, no false alarm
    ((0, 90, 0, 10), dict(recall=0, precision=1, fscore=0, iou=0, kappa=0)),
])
def test_every_ratio_is_defined_when_a_class_is_absent(counts, expected):
    confusion = Confusion(*counts)
    for name, value in expected.items():
        assert getattr(confusion, name) == pytest.approx(value), name


def test_no_pixel_gives_nan_not_a_division_error():
    assert all(math.isnan(v) for k, v in Confusion().metrics().items() if k not in 'tp tn fp fn')
