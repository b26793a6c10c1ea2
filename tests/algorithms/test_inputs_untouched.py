"""The core never writes beside its inputs, even with GDAL's side-car files (PAM) enabled.

The test session turns PAM off (conftest.py) because QGIS itself saves statistics beside any
raster it loads as a layer; this test turns it back on to show our own code writes nothing.
"""

import os
import shutil

import pytest
from conftest import data_path
from l1c_fixtures import TOULOUSE
from osgeo import gdal

from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.evaluation.evaluate import evaluate
from algorithms.core.evaluation.metrics import mapping_for
from algorithms.core.sentinel2.stack import stack_l1c
from algorithms.support.paths import bundled_model_path


@pytest.fixture
def pam_enabled():
    gdal.SetConfigOption('GDAL_PAM_ENABLED', 'YES')
    yield
    gdal.SetConfigOption('GDAL_PAM_ENABLED', None)


def _listing(folder):
    return sorted(os.listdir(folder))


def test_stack_detect_evaluate_leave_input_folders_as_they_were(tmp_path, pam_enabled):
    inputs, outputs = tmp_path / 'inputs', tmp_path / 'outputs'
    inputs.mkdir()
    outputs.mkdir()
    for path in (TOULOUSE, data_path('detect', 'betsiboka_crop_toa13.tif'),
                 data_path('oncloudn', 'kgvd.tif')):
        shutil.copy(path, inputs)
    before = _listing(inputs)
    stack_l1c(str(next(inputs.glob('*.zip'))), str(outputs / 'stack.tif'))
    crop = str(inputs / 'betsiboka_crop_toa13.tif')
    detect_clouds(crop, str(outputs / 'mask.tif'), bundled_model_path('s2cloudcnn-l1c13'),
                  DetectOptions(probability_path=str(outputs / 'probability.tif')))
    label = str(inputs / 'kgvd.tif')
    evaluate(label, label, mapping_for('mask'), mapping_for('mask'),
             error_map=str(outputs / 'errors.tif'))
    assert _listing(inputs) == before
    assert len(_listing(outputs)) >= 4
