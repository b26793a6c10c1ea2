"""The training side of the references: reserved pixels are never a target, rows split cleanly."""

import os

import numpy as np
import pytest
from conftest import REPO
from osgeo import gdal

from models.training import datasets, reserved, sources
from models.training.config import default_data_root
from models.training.patches import LabelledImage

SHARED_RESERVED = os.path.join(default_data_root(), *reserved.BETSIBOKA_RESERVED)


def _image(labels):
    return LabelledImage('scene', np.zeros((13, *labels.shape), np.float32), labels)


def test_a_target_on_a_reserved_pixel_raises():
    labels = np.full((6, 8), -1, np.int8)
    labels[0, 0] = 1
    mask = np.zeros(labels.shape, bool)
    mask[2:4, 2:4] = True
    reserved.check_not_reserved([_image(labels)], mask)  # target outside: fine
    labels[3, 2] = 0
    with pytest.raises(reserved.ReservedPixelError, match='1 target pixels are reserved'):
        reserved.check_not_reserved([_image(labels)], mask)
    cleaned = reserved.without_reserved(labels, mask)
    reserved.check_not_reserved([_image(cleaned)], mask)
    assert cleaned[0, 0] == 1 and cleaned[3, 2] == -1 and labels[3, 2] == 0


def test_the_2017_strip_is_a_reserved_product():
    assert reserved.is_reserved_product(
        '/x/S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip')
    assert not any(reserved.is_reserved_product(p) for p in sources.FREE_L1C.values())


def test_row_split_holds_out_the_last_rows_of_each_band_with_a_gap():
    image = _image(np.zeros((300, 4), np.int8))
    train, held = datasets.split_rows(image, period=128, heldout=48, gap=16)
    train_rows = np.flatnonzero((train.labels >= 0).any(axis=1))
    held_rows = np.flatnonzero((held.labels >= 0).any(axis=1))
    assert list(held_rows[:3]) == [80, 81, 82] and 127 in held_rows and 128 not in held_rows
    assert list(train_rows[:2]) == [16, 17] and 63 in train_rows and 64 not in train_rows
    assert min(abs(t - h) for t in train_rows for h in held_rows) > 16


@pytest.mark.skipif(not os.path.exists(SHARED_RESERVED),
                    reason='needs the real data: data/ or $S2CLOUDCNN_DATA')
def test_committed_betsiboka_reference_has_no_class_on_a_reserved_pixel():
    dataset = gdal.Open(os.path.join(REPO, 'models', 'training', 'references',
                                     'betsiboka_reference.tif'))
    classes = dataset.GetRasterBand(1).ReadAsArray()
    mask = reserved.betsiboka_reserved(default_data_root())
    assert mask.any() and not classes[mask].any()
    assert np.isin(classes[~mask], (2, 3)).any() and np.isin(classes[~mask], (5, 6)).any()
