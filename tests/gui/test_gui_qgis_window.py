"""The analyst's path in a real QGIS window (Xvfb): toolbox, dialog, batch run, styled mask,
Install from ZIP. Screenshots are kept in test-output/screenshots/ for a person to look at."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from conftest import QGIS_HOME, REPO, data_path
from detect_helpers import SHIPPED_MODEL
from l1c_fixtures import (
    PDMC,
    T32UPV,
    T32UPV_CORNER,
    T32UPV_CUMULUS,
    T32UPV_STRIP_EXTENT,
    esa_cloud_truth,
)
from osgeo import gdal

from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.sentinel2.stack import StackOptions, stack_l1c
from algorithms.provider import ALGORITHMS

SCREENSHOTS = os.path.join(REPO, 'test-output', 'screenshots')
DEMO_STRIP = (600000.0, 5468520.0, 609240.0, 5500020.0)

pytestmark = pytest.mark.skipif(shutil.which('xvfb-run') is None,
                                reason='xvfb-run missing: run make env')


def run_qgis_window(tmp_path, steps, config, plugin_from_checkout=True):
    """Start the QGIS desktop application on a virtual screen with tests/gui_session.py."""
    out = tmp_path / 'gui'
    out.mkdir()
    env = {**os.environ, 'S2CC_GUI_OUT': str(out), 'S2CC_GUI_STEPS': ','.join(steps),
           'S2CC_GUI_CONFIG': json.dumps(config), 'XDG_RUNTIME_DIR': str(tmp_path)}
    env.pop('QT_QPA_PLATFORM', None)
    if plugin_from_checkout:
        env.update(QGIS_PLUGINPATH=os.path.join(QGIS_HOME, 'plugins'),
                   QGIS_CUSTOM_CONFIG_PATH=os.path.join(QGIS_HOME, 'config'))
    else:
        env.pop('QGIS_PLUGINPATH', None)
        env['QGIS_CUSTOM_CONFIG_PATH'] = str(tmp_path / 'fresh-profile')
    env['PYTHONPATH'] = os.path.join(REPO, '.venv', 'site-packages-link')
    subprocess.run(['xvfb-run', '-a', '-s', '-screen 0 1400x900x24', 'qgis', '--nologo',
                    '--noversioncheck', '--code', os.path.join(REPO, 'tests', 'gui_session.py')],
                   env=env, capture_output=True, timeout=180, check=False)
    result = json.loads((out / 'result.json').read_text())
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for shot in result.get('screenshots', []):
        shutil.copy(shot, SCREENSHOTS)
    assert result['errors'] == []
    return result


def _non_blank(png):
    image = gdal.Open(png).ReadAsArray()
    return image.std() > 5


@pytest.fixture(scope='module')
def real_stacks(tmp_path_factory):
    folder = tmp_path_factory.mktemp('stacks')
    strip = stack_l1c(T32UPV, str(folder / 't32upv_strip.tif'),
                      StackOptions(extent=DEMO_STRIP)).path
    pdmc = stack_l1c(PDMC, str(folder / 'pdmc_corner.tif'),
                     StackOptions(extent=T32UPV_CORNER)).path
    betsiboka = str(folder / 'betsiboka.tif')
    shutil.copy(data_path('detect', 'betsiboka_crop_toa13.tif'), betsiboka)
    return [strip, pdmc, betsiboka]


def test_toolbox_dialog_batch_and_styled_mask_in_a_real_qgis_window(tmp_path, real_stacks):
    outputs = [str(tmp_path / f'mask_{i}.tif') for i in range(len(real_stacks))]
    config = {'batch_inputs': real_stacks, 'batch_outputs': outputs,
              'map_stack': real_stacks[0], 'map_mask': outputs[0]}
    result = run_qgis_window(tmp_path, ['toolbox', 'algorithm_dialog', 'batch_detect',
                                        'styled_mask_on_map'], config)
    assert 'S2 Cloud CNN' in result['toolbox_top_level']
    assert 'Detect clouds (CNN)' in result['dialog_title']
    for stack, mask in zip(real_stacks, outputs):
        grid = gdal.Open(stack)
        values = gdal.Open(mask).ReadAsArray()
        assert values.shape == (grid.RasterYSize, grid.RasterXSize)
        assert set(np.unique(values)) <= {0, 1, 255}
        assert result['batch_loaded_layers'].get(mask) == 'paletted'  # our style, on load
    assert 'Batch execution completed' in result['batch_log']
    assert 'not correctly generated' not in result['batch_log']
    assert result['batch_log'].count('correctly executed') == len(real_stacks)
    assert result['map_mask_renderer'] == 'paletted'
    cloudy = np.count_nonzero(gdal.Open(outputs[0]).ReadAsArray() == 1)
    assert (result['map_magenta_samples'] > 0) == (cloudy > 0)
    for name in ('toolbox.png', 'detect_dialog.png', 'batch_detect.png', 'mask_on_map.png'):
        assert _non_blank(os.path.join(SCREENSHOTS, name))


def test_cloud_and_shadow_mask_on_the_map_in_a_real_qgis_window(tmp_path):
    stack = stack_l1c(T32UPV, str(tmp_path / 'cumulus.tif'),
                      StackOptions(extent=T32UPV_CUMULUS)).path
    shadows = str(tmp_path / 'cloud_shadow.tif')
    detect_clouds(T32UPV, str(tmp_path / 'mask.tif'), str(SHIPPED_MODEL),
                  DetectOptions(extent=T32UPV_CUMULUS, cloud_shadow_path=shadows))
    shutil.copy(os.path.join(REPO, 'resources', 'cloud_shadow.qml'),
                str(tmp_path / 'cloud_shadow.qml'))  # what the algorithm writes beside it
    result = run_qgis_window(tmp_path, ['cloud_shadow_on_map'],
                             {'shadow_stack': stack, 'shadow_mask': shadows})
    assert result['shadow_mask_renderer'] == 'paletted'
    shadow = np.count_nonzero(gdal.Open(shadows).ReadAsArray() == 2)
    assert shadow > 0 and result['map_cyan_samples'] > 0
    assert _non_blank(os.path.join(SCREENSHOTS, 'cloud_shadow_on_map.png'))


def test_outputs_load_styled_and_in_order_after_runs_in_a_real_qgis_window(tmp_path):
    truth = esa_cloud_truth(tmp_path / 'esa_clouds.tif')
    result = run_qgis_window(tmp_path, ['algorithm_dialog', 'outputs_loaded_after_runs',
                                        'model_designer'],
                             {'product': T32UPV, 'extent': T32UPV_STRIP_EXTENT, 'truth': truth,
                              'run_folder': str(tmp_path)})
    order, renderers = result['loaded_order'], result['loaded_renderers']
    assert order.index('z_mask.tif') < order.index('a_probability.tif')  # mask drawn on top
    assert order.index('a_probability.tif') < order.index('stack.tif')
    assert renderers['stack.tif'] == {'type': 'multibandcolor', 'bands': [4, 3, 2]}
    assert renderers['a_probability.tif']['type'] == 'singlebandpseudocolor'
    assert renderers['z_mask.tif']['type'] == 'paletted'
    errors = renderers['errors.tif']['classes']
    assert errors['0'][1] == 0  # true negatives transparent: the image shows through
    assert errors['1'][1] > 0 and errors['1'][0] not in ('#ffffff', '#f5f5f5')  # visible TP
    assert result['designer_valid'] is True
    for name in ('map_after_run.png', 'model_designer.png'):
        assert _non_blank(os.path.join(SCREENSHOTS, name))


def test_summary_methods_table_in_the_dialog_and_batch_in_a_real_qgis_window(tmp_path):
    from evaluation_helpers import CHIPS, TRUTHS, csv_rows, read, shifted_and_perturbed, write

    cnn, scl = [], []
    for chip in CHIPS[:2]:
        template = os.path.join(TRUTHS, f'{chip}.tif')
        label = read(template)
        cnn.append(write(tmp_path / f'{chip}_cnn.tif', shifted_and_perturbed(label), template))
        scl.append(write(tmp_path / f'{chip}-scl.tif', np.where(label == 1, 9, 4).astype(
            np.uint8), template, nodata=0))
    methods = ['CNN', '*_cnn.tif', 'mask', '', '', '', 'Sen2Cor', '*-scl.tif', 'scl', '', '', '']
    batch = [{'PREDICTIONS': cnn + scl, 'METHODS': methods, 'GROUND_TRUTH_FOLDER': TRUTHS,
              'PER_METHOD_CSV': str(tmp_path / 'both.csv')},
             {'PREDICTIONS': cnn, 'METHODS': ['ours', '*', '0', '', '', ''],
              'GROUND_TRUTH_FOLDER': TRUTHS, 'PER_METHOD_CSV': str(tmp_path / 'ours.csv')}]
    result = run_qgis_window(tmp_path, ['summary_dialog_and_batch'], {
        'summary_dialog': {'PREDICTIONS': cnn + scl, 'METHODS': methods},
        'summary_batch': batch})
    assert result['summary_dialog_values'] == {'PREDICTIONS': cnn + scl, 'METHODS': methods}
    assert 'Batch execution completed' in result['summary_batch_log']
    assert result['summary_batch_log'].count('correctly executed') == 2
    assert [(r['method'], r['images']) for r in csv_rows(tmp_path / 'both.csv')] == [
        ('CNN', '2'), ('Sen2Cor', '2')]
    assert [(r['method'], r['images']) for r in csv_rows(tmp_path / 'ours.csv')] == [('ours', '2')]
    assert _non_blank(os.path.join(SCREENSHOTS, 'summary_dialog.png'))


def test_plugin_zip_installs_through_qgis_install_from_zip(tmp_path):
    subprocess.run(['make', '--no-print-directory', 'zip'], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    result = run_qgis_window(tmp_path, ['install_from_zip'],
                             {'zip': os.path.join(REPO, 'build', 's2cloudcnn.zip')},
                             plugin_from_checkout=False)
    installed = os.path.join(result['installed_into'], 's2cloudcnn')
    assert result['installed_into'].startswith(str(tmp_path))
    assert 's2cloudcnn' in result['active_plugins']
    assert result['provider_algorithms'] == sorted(
        f's2cloudcnn:{cls().name()}' for cls in ALGORITHMS)
    assert os.path.isfile(os.path.join(installed, 'models', 's2cloudcnn-l1c13.onnx'))
    assert os.path.isfile(os.path.join(installed, 'resources', 'mask.qml'))
