"""The three inspection algorithms through Processing and qgis_process, on the real crop."""

import json
import shutil

import numpy as np
import pytest
from conftest import qgis_process
from core.test_inspection import MAP_TOLERANCE, MODEL, read_maps
from core.test_inspection import STACK as BUNDLED_STACK
from osgeo import gdal


@pytest.fixture
def stack(tmp_path_factory):
    """A copy of the real crop: QGIS writes a statistics side-car beside a raster layer."""
    path = tmp_path_factory.mktemp('input') / 'crop.tif'
    shutil.copy(BUNDLED_STACK, path)
    return str(path)


@pytest.fixture(scope='module')
def kernel_db(tmp_path_factory):
    """Layer-1 kernel database written by qgis_process, as the README tells users."""
    folder = tmp_path_factory.mktemp('kernels')
    json_path, csv_path = folder / 'conv1.json', folder / 'conv1.csv'
    result = qgis_process('run', 's2cloudcnn:exportkernels', '--', 'MODEL=s2cloudcnn-l1c13',
                          'LAYER=1', f'OUTPUT={json_path}', f'OUTPUT_CSV={csv_path}')
    assert 'strongest' in result.stdout + result.stderr
    assert csv_path.stat().st_size > 0
    return str(json_path)


def test_featuremaps_with_report_and_applykernels_agree(run_algorithm, kernel_db, stack, tmp_path):
    maps = run_algorithm('s2cloudcnn:featuremaps', {
        'INPUT': stack, 'MODEL_FILE': MODEL, 'LAYER': 1, 'FILTERS': '1-3',
        'OUTPUT': str(tmp_path / 'maps.tif'), 'REPORT': str(tmp_path / 'maps.html')})
    applied = run_algorithm('s2cloudcnn:applykernels', {
        'INPUT': stack, 'KERNELS': kernel_db, 'FILTERS': '1, 2, 3',
        'OUTPUT': str(tmp_path / 'applied.tif')})
    model_maps, kernel_maps = read_maps(maps['OUTPUT'])[0], read_maps(applied['OUTPUT'])[0]
    assert model_maps.shape == (3, 64, 64)
    np.testing.assert_allclose(kernel_maps, model_maps, atol=MAP_TOLERANCE)
    assert (tmp_path / 'maps_maps.png').is_file()
    assert 'conv1 filter 03' in (tmp_path / 'maps.html').read_text()


def test_featuremaps_deeper_layer_with_the_default_model(run_algorithm, stack, tmp_path):
    result = run_algorithm('s2cloudcnn:featuremaps', {
        'INPUT': stack, 'LAYER': 3, 'FILTERS': '2',
        'OUTPUT': str(tmp_path / 'conv3.tif')})
    dataset = gdal.Open(result['OUTPUT'])
    assert dataset.RasterCount == 1
    assert dataset.GetRasterBand(1).GetDescription() == 'conv3 filter 02'
    assert 'cell (2, 2)' in dataset.GetMetadataItem('BAND_MEANING')
    assert result['REPORT'] is None


def test_a_layer_that_does_not_exist(run_algorithm, stack, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match='choose a layer from 1 to 3'):
        run_algorithm('s2cloudcnn:featuremaps', {
            'INPUT': stack, 'MODEL_FILE': MODEL, 'LAYER': 4, 'OUTPUT': str(tmp_path / 'm.tif')})
    with pytest.raises(QgsProcessingException, match='choose a layer from 1 to 3'):
        run_algorithm('s2cloudcnn:exportkernels', {
            'MODEL_FILE': MODEL, 'LAYER': 7, 'OUTPUT': str(tmp_path / 'k.json')})
    assert not list(tmp_path.iterdir())


def test_filters_that_do_not_exist(run_algorithm, stack, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match='do not exist'):
        run_algorithm('s2cloudcnn:featuremaps', {
            'INPUT': stack, 'MODEL_FILE': MODEL, 'LAYER': 1, 'FILTERS': '2, 500',
            'OUTPUT': str(tmp_path / 'm.tif')})


def test_kernel_file_for_other_bands(run_algorithm, kernel_db, stack, tmp_path):
    from qgis.core import QgsProcessingException

    rgbn = str(tmp_path / 'rgbn.tif')
    gdal.Translate(rgbn, stack, bandList=[2, 3, 4, 8])
    with pytest.raises(QgsProcessingException,
                       match='kernel file conv1.json is for other bands: .*lacks .* B01'):
        run_algorithm('s2cloudcnn:applykernels', {
            'INPUT': rgbn, 'KERNELS': kernel_db, 'OUTPUT': str(tmp_path / 'a.tif')})


@pytest.mark.parametrize('kind, message', [
    ('other json', 'not an S2 Cloud CNN kernel database'),
    ('layer 2', 'export layer 1'),
])
def test_not_a_layer1_kernel_file(run_algorithm, kernel_db, stack, tmp_path, kind, message):
    from qgis.core import QgsProcessingException

    path = tmp_path / 'k.json'
    document = json.loads(open(kernel_db, encoding='utf-8').read())
    if kind == 'layer 2':
        document['layer'] = 2
    else:
        document = {'type': 'FeatureCollection', 'features': []}
    path.write_text(json.dumps(document))
    with pytest.raises(QgsProcessingException, match=message):
        run_algorithm('s2cloudcnn:applykernels', {
            'INPUT': stack, 'KERNELS': str(path), 'OUTPUT': str(tmp_path / 'a.tif')})
