"""The reference core without QGIS: class values, feature maths, the scikit-learn hint."""

import numpy as np
import pytest

from algorithms.core.dependencies import scikit_learn_missing_message
from algorithms.core.errors import SeedError
from algorithms.core.reference.classes import class_code
from algorithms.core.reference.forest import boundary_ring, box_mean


@pytest.mark.parametrize('value, code', [(2, 2), ('3', 3), (5.0, 5), ('Thin cloud', 3),
                                         ('low clouds', 2), ('cloud_shadow', 4), (' water ', 6)])
def test_class_values_read_as_alcd_codes(value, code):
    assert class_code(value) == code


@pytest.mark.parametrize('value', [1, 8, 2.5, 'fog', None])
def test_other_class_values_are_refused_with_the_list(value):
    with pytest.raises(SeedError, match='2 opaque cloud, 3 thin cloud'):
        class_code(value)


def test_box_mean_matches_a_loop_and_skips_no_data():
    values = np.arange(30, dtype=float).reshape(5, 6)
    values[1, 2] = np.nan
    means = box_mean(values, 3)
    for r, c in ((0, 0), (2, 2), (4, 5)):
        window = values[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        assert means[r, c] == pytest.approx(np.nanmean(window))


def test_ring_is_symmetric_and_only_at_cloud_clear_edges():
    classes = np.full((5, 6), 5, np.uint8)
    classes[:, :2] = 2
    classes[:, 4:] = 6  # a land/water edge is no cloud/clear edge
    ring = boundary_ring(classes, 1)
    assert ring[:, 1].all() and ring[:, 2].all()
    assert not ring[:, [0, 3, 4, 5]].any()


def test_missing_scikit_learn_message_gives_the_installer_and_the_command_for_the_folder():
    message = scikit_learn_missing_message('linux', folder='/p/s2cloudcnn-packages/3.11',
                                           python='/usr/bin/python3')
    assert "Plugins > S2 Cloud CNN > Install Python dependencies… (tick 'Also install " \
        "scikit-learn')" in message
    assert ('in a terminal: /usr/bin/python3 -m pip install --no-deps --only-binary :all: '
            '--target /p/s2cloudcnn-packages/3.11 scikit-learn==1.6.1 joblib threadpoolctl '
            'cloudpickle (then restart QGIS)') in message
    assert 'python3-sklearn' in message
    windows = scikit_learn_missing_message('win32', folder='C:\\My QGIS\\3.12', python='python')
    assert 'OSGeo4W Shell' in windows and 'apt' not in windows
    assert 'python -m pip install --no-deps --only-binary :all: --target "C:\\My QGIS\\3.12" ' \
        'scikit-learn==1.6.1' in windows
    mac = scikit_learn_missing_message('darwin', folder='/Users/a b/3.9')
    assert "Terminal: /Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install" in mac
    assert "--target '/Users/a b/3.9' scikit-learn==1.6.1" in mac
