"""Detect clouds (CNN) through Processing and qgis_process: outputs, style, bad input."""

import os

import numpy as np
import pytest
from conftest import qgis_process
from detect_helpers import CROP, SHIPPED_MODEL, band_names, copy_crop, read, read_all, write_like
from l1c_fixtures import T32UPV, T32UPV_CUMULUS, TOULOUSE
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProcessingFeedback

ALG = 's2cloudcnn:detectclouds'


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps what the algorithm told the user."""

    def __init__(self):
        super().__init__()
        self.infos, self.warnings = [], []

    def pushInfo(self, info):
        self.infos.append(info)

    def pushWarning(self, warning):
        self.warnings.append(warning)


@pytest.fixture(scope='module')
def model():
    return str(SHIPPED_MODEL)  # the real shipped default model


@pytest.fixture(scope='module')
def crop(tmp_path_factory):
    # QGIS writes a histogram .aux.xml beside a raster it loads as a layer: never in tests/data.
    return str(copy_crop(tmp_path_factory.mktemp('input')))


def params(tmp_path, model, crop, **extra):
    values = {'INPUT': crop, 'MODEL_FILE': model, 'EXECUTION_PROVIDER': 'CPU',
              'OUTPUT': str(tmp_path / 'mask.tif')}
    values.update(extra)
    return values


def test_mask_probability_style_and_provider(tmp_path, run_algorithm, model, crop):
    feedback = RecordingFeedback()
    result = run_algorithm(ALG, params(tmp_path, model, crop, PROBABILITY=str(tmp_path / 'p.tif'),
                                       THRESHOLD=0.3), feedback=feedback)
    mask, prob = read(result['OUTPUT']), read(result['PROBABILITY'])
    source = gdal.Open(crop)
    output = gdal.Open(result['OUTPUT'])
    assert output.GetGeoTransform() == source.GetGeoTransform()
    assert mask.shape == prob.shape == (source.RasterYSize, source.RasterXSize)
    assert output.GetRasterBand(1).DataType == gdal.GDT_Byte
    assert output.GetRasterBand(1).GetNoDataValue() == 255
    assert ((prob >= 0.3) == (mask == 1)).all()
    assert result['CLOUD_FRACTION'] == pytest.approx((mask == 1).mean())
    assert result['PROVIDER_USED'] == 'CPUExecutionProvider'
    assert any('Execution provider: CPUExecutionProvider' in i for i in feedback.infos)
    assert 'paletted' in (tmp_path / 'mask.qml').read_text()


def test_cuda_requested_without_gpu_warns_with_reason(tmp_path, run_algorithm, model, crop):
    feedback = RecordingFeedback()
    result = run_algorithm(ALG, params(tmp_path, model, crop, EXECUTION_PROVIDER='CUDA'),
                           feedback=feedback)
    assert result['PROVIDER_USED'] == 'CPUExecutionProvider'
    assert any(w.startswith('CUDA not used:') for w in feedback.warnings)


def test_l1c_product_is_stacked_then_detected(tmp_path, run_algorithm, model, crop):
    result = run_algorithm(ALG, params(tmp_path, model, crop, INPUT=None, PRODUCT=TOULOUSE,
                                       OUTPUT_NATIVE=str(tmp_path / 'mask10.tif'),
                                       NATIVE_RESOLUTION='10 m'))
    mask = read(result['OUTPUT'])
    assert mask.shape == (6, 6)  # the 30 x 30 px 10 m crop covers 6 x 6 tile pixels at 60 m
    assert (mask[1:-1, 1:-1] != 255).all() and (mask[0] == 255).all()  # partial pixels: no data
    assert read(result['OUTPUT_NATIVE']).shape == (36, 36)


def test_l1c_product_given_as_the_input_is_detected_like_a_product(tmp_path, run_algorithm,
                                                                   model, crop):
    as_product = run_algorithm(ALG, params(tmp_path, model, crop, INPUT=None, PRODUCT=TOULOUSE))
    as_input = run_algorithm(ALG, params(tmp_path, model, crop, INPUT=TOULOUSE,
                                         OUTPUT=str(tmp_path / 'mask_input.tif')))
    assert np.array_equal(read(as_input['OUTPUT']), read(as_product['OUTPUT']))
    with pytest.raises(QgsProcessingException, match='one of the two, not both'):
        run_algorithm(ALG, params(tmp_path, model, crop, INPUT=TOULOUSE, PRODUCT=TOULOUSE))


def expect_error(tmp_path, run_algorithm, parameters, message):
    with pytest.raises(QgsProcessingException, match=message):
        run_algorithm(ALG, parameters)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(('mask', 'p.'))]


def test_wrong_band_count(tmp_path, run_algorithm, model, crop):
    four = write_like(tmp_path / 'in4.tif', CROP, read_all(CROP)[[1, 2, 3, 7]],
                      [band_names(CROP)[i] for i in (1, 2, 3, 7)])
    expect_error(tmp_path, run_algorithm, params(tmp_path, model, crop, INPUT=str(four)),
                 'lacks the model bands B01, B05, B06')


def test_bands_without_names_or_twice(tmp_path, run_algorithm, model, crop):
    image = read_all(CROP)
    unnamed = write_like(tmp_path / 'in_unnamed.tif', CROP, image)
    expect_error(tmp_path, run_algorithm, params(tmp_path, model, crop, INPUT=str(unnamed)),
                 '13 without a band name')
    names = band_names(CROP)
    twice = write_like(tmp_path / 'in_twice.tif', CROP, image, [names[1]] + names[1:])
    expect_error(tmp_path, run_algorithm, params(tmp_path, model, crop, INPUT=str(twice)),
                 'band B02 twice')


def test_model_file_that_is_not_onnx(tmp_path, run_algorithm, crop):
    fake = tmp_path / 'fake.onnx'
    fake.write_text('not a model')
    expect_error(tmp_path, run_algorithm, params(tmp_path, str(fake), crop), 'not a readable ONNX')


def test_onnx_without_metadata(tmp_path, run_algorithm, crop):
    from onnx_builder import build_model

    bare = tmp_path / 'bare.onnx'
    build_model(bare, metadata=False)
    expect_error(tmp_path, run_algorithm, params(tmp_path, str(bare), crop),
                 'lacks S2 Cloud CNN metadata')


def test_custom_model_without_first_layer_metadata_is_probed_and_says_so(
        tmp_path, run_algorithm, crop):
    from onnx_builder import build_model

    custom = tmp_path / 'custom.onnx'
    assert build_model(custom).schema == '1'  # a custom model: the contract without conv1
    feedback = RecordingFeedback()
    result = run_algorithm(ALG, params(tmp_path, str(custom), crop), feedback=feedback)
    assert set(np.unique(read(result['OUTPUT']))) <= {0, 1}
    assert any('first two conv layers shared between patches; first layer probed from the '
               'graph (metadata schema 1' in i for i in feedback.infos), feedback.infos


def test_malformed_first_layer_metadata(tmp_path, run_algorithm, model, crop):
    import onnx

    proto = onnx.load(model)
    next(p for p in proto.metadata_props if p.key == 'conv1_bias').value = '{"dtype": "<f4"}'
    broken = tmp_path / 'broken.onnx'
    onnx.save(proto, str(broken))
    expect_error(tmp_path, run_algorithm, params(tmp_path, str(broken), crop),
                 r'conv1_bias has shape None; the metadata \(bands, filters\) needs \[8\]')


def test_all_no_data_input(tmp_path, run_algorithm, model, crop):
    empty = write_like(tmp_path / 'in_nan.tif', CROP, np.full((13, 20, 20), np.nan, np.float32),
                       band_names(CROP))
    expect_error(tmp_path, run_algorithm, params(tmp_path, model, crop, INPUT=str(empty)),
                 'no valid pixel')


def test_extent_outside_the_raster(tmp_path, run_algorithm, model, crop):
    x0, _, _, y0, _, _ = gdal.Open(str(CROP)).GetGeoTransform()
    far = f'{x0 + 1e5},{x0 + 1.1e5},{y0 + 1e5},{y0 + 1.1e5} [EPSG:32738]'
    expect_error(tmp_path, run_algorithm, params(tmp_path, model, crop, EXTENT=far),
                 'does not overlap')


def test_model_resolution_differs(tmp_path, run_algorithm, crop):
    from onnx_builder import build_model

    ten = tmp_path / 'ten_m.onnx'
    build_model(ten, resolution_m=10)
    expect_error(tmp_path, run_algorithm, params(tmp_path, str(ten), crop),
                 '60 x 60 m pixels but the model works at 10 m')


def test_qgis_process_example(tmp_path, model, crop):
    output = tmp_path / 'mask.tif'
    result = qgis_process('run', ALG, '--', f'INPUT={crop}', f'MODEL_FILE={model}',
                          'EXECUTION_PROVIDER=CPU', f'OUTPUT={output}')
    assert 'Execution provider: CPUExecutionProvider' in result.stdout + result.stderr
    assert set(np.unique(read(output))) <= {0, 1}


def test_missing_onnxruntime_disables_the_algorithm_with_the_install_command(monkeypatch):
    from algorithms import detect_clouds
    from algorithms.core.dependencies import PackageStatus

    monkeypatch.setattr(detect_clouds, 'onnxruntime_status', lambda: PackageStatus(False))
    ok, message = detect_clouds.DetectCloudsAlgorithm().canExecute()
    assert not ok and 'pip' in message and 'onnxruntime' in message


def test_optional_outputs_left_empty_in_a_batch_are_not_queued_for_loading(
        tmp_path, run_algorithm, model, crop):
    from qgis.core import QgsProcessingContext, QgsProcessingOutputLayerDefinition, QgsProject

    context = QgsProcessingContext()
    empty = QgsProcessingOutputLayerDefinition('')  # what the batch dialog sends
    empty.destinationProject = QgsProject.instance()
    result = run_algorithm(ALG, params(tmp_path, model, crop, PROBABILITY=empty,
                                       OUTPUT_NATIVE=empty), context=context)
    assert result['PROBABILITY'] is None and result['OUTPUT_NATIVE'] is None
    assert '' not in context.layersToLoadOnCompletion()


XMIN, YMIN, XMAX, YMAX = T32UPV_CUMULUS
CUMULUS_EXTENT = f'{XMIN},{XMAX},{YMIN},{YMAX} [EPSG:32632]'


def test_cloud_and_shadow_mask_of_a_product_with_a_buffer(tmp_path, run_algorithm, model, crop):
    feedback = RecordingFeedback()
    result = run_algorithm(ALG, params(tmp_path, model, crop, INPUT=T32UPV,  # a product
                                       EXTENT=CUMULUS_EXTENT, DILATION=1,
                                       CLOUD_SHADOW=str(tmp_path / 'cloud_shadow.tif')),
                           feedback=feedback)
    codes, mask = read(result['CLOUD_SHADOW']), read(result['OUTPUT'])
    assert set(np.unique(codes)) <= {0, 1, 2, 255} and (codes == 2).any()
    assert ((codes == 255) == (mask == 255)).all()
    assert (codes[mask == 1] == 1).all() and (codes == 1).sum() > (mask == 1).sum()  # grown
    assert result['SHADOW_FRACTION'] == pytest.approx((codes == 2).sum() / (codes != 255).sum())
    assert 'cloud shadow' in (tmp_path / 'cloud_shadow.qml').read_text()
    assert any('cast a shadow' in i for i in feedback.infos)
    output = gdal.Open(result['CLOUD_SHADOW'])
    assert output.GetGeoTransform() == gdal.Open(result['OUTPUT']).GetGeoTransform()


def test_cloud_and_shadow_mask_of_a_plain_raster_is_refused(tmp_path, run_algorithm, model, crop):
    expect_error(tmp_path, run_algorithm,
                 params(tmp_path, model, crop, CLOUD_SHADOW=str(tmp_path / 'mask_cs.tif')),
                 'sun and view angles')


def test_qgis_process_cloud_and_shadow_mask(tmp_path, model):
    output = tmp_path / 'cloud_shadow.tif'
    qgis_process('run', ALG, '--', f'PRODUCT={T32UPV}', f'EXTENT={CUMULUS_EXTENT}',
                 f'MODEL_FILE={model}', 'EXECUTION_PROVIDER=CPU', f'OUTPUT={tmp_path / "m.tif"}',
                 f'CLOUD_SHADOW={output}')
    codes = read(output)
    assert set(np.unique(codes)) <= {0, 1, 2, 255} and (codes == 2).any()
    assert (codes == 1).sum() == (read(tmp_path / 'm.tif') == 1).sum()  # no buffer by default
