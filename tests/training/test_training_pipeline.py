"""Training pipeline (models/training): patches, row sampler, datasets, synthetic clouds, ONNX."""

import csv
import json
import os
import shutil

import numpy as np
import onnx
import pytest
from conftest import data_path
from l1c_fixtures import TOULOUSE
from onnx_builder import graph_first_layer
from osgeo import gdal

from algorithms.core.detection.contract import parse_metadata
from algorithms.core.detection.inference import read_model
from models.training import atmosphere, datasets, synthetic, train
from models.training.agreement import fmask_tests
from models.training.patches import LabelledImage, row_patches, zero_bordered
from models.training.samplers import RowSampler


def _betsiboka_patch(kind):
    """A 16 x 16 Betsiboka window (tests/data/training/l1c13_<kind>.tif) as reflectance."""
    return datasets.read_image(data_path('training', f'l1c13_{kind}.tif'), 1e-4)


def test_row_patches_put_the_pixel_at_row_col_8_with_a_zero_border():
    image = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7) + 1
    image[1, 4, 6] = np.nan  # no data becomes 0, like the border
    bordered = zero_bordered(image)
    patches = row_patches(bordered, 4, np.array([0, 6]))
    assert patches.shape == (2, 2, 16, 16)
    assert patches[0, 0, 8, 8] == image[0, 4, 0]
    assert patches[1, 0, 8, 8] == image[0, 4, 6]
    assert patches[1, 1, 8, 8] == 0  # the NaN pixel
    assert patches[0, 0, 4, 8] == image[0, 0, 0]  # row r - 4
    assert patches[0, 0, :4].sum() == 0 and patches[0, 0, :, :8].sum() == 0  # zero border
    assert patches[0, 0, 13:].sum() == 0  # rows r + 5 .. r + 7 are beyond the 5-row image


def test_row_sampler_draws_only_labelled_pixels_reproducibly():
    reflectance = np.random.default_rng(1).random((3, 20, 30), np.float32)
    labels = np.full((20, 30), -1, np.int8)
    labels[5, 3:9] = 1
    labels[12, 10:14] = 0
    image = LabelledImage('toy', reflectance, labels)
    first = [RowSampler([image], seed=3).batch() for _ in range(2)]
    batches = [RowSampler([image], seed=3).batch() for _ in range(2)]
    for (p1, l1), (p2, l2) in zip(first, batches):
        np.testing.assert_array_equal(p1, p2)
        np.testing.assert_array_equal(l1, l2)
    for patches, labels_drawn in batches:
        assert len(patches) in (6, 4) and set(labels_drawn) <= {0.0, 1.0}
        np.testing.assert_allclose(patches[0, :, 8, 8], reflectance[:, 5, 3] if len(patches) == 6
                                   else reflectance[:, 12, 10])


def test_map_classes_follows_the_alcd_legend():
    values = np.arange(9).reshape(3, 3)
    labels = datasets.map_classes(values, datasets.ALCD_CLOUD, datasets.ALCD_CLEAR)
    assert labels.ravel().tolist() == [-1, -1, 1, 1, 0, 0, 0, 0, -1]
    with pytest.raises(ValueError, match='both cloud and clear'):
        datasets.map_classes(values, (2, 3), (3, 4))


def test_alcd_reader_on_a_real_toulouse_product(tmp_path):
    from models.training.sources import stack_product

    root = tmp_path / 'alcd'
    product_dir = root / 'Toulouse_31TCJ_20240120'
    (product_dir / 'Classification').mkdir(parents=True)
    product = shutil.copy(TOULOUSE, root)  # the L1C product beside it
    reference = str(tmp_path / 'reference_stack.tif')
    stack_product(str(product), reference)
    stack = gdal.Open(reference)
    classes = (np.arange(stack.RasterXSize * stack.RasterYSize) % 8).reshape(
        stack.RasterYSize, stack.RasterXSize).astype(np.uint8)
    class_map = gdal.GetDriverByName('GTiff').Create(
        str(product_dir / 'Classification' / 'classification_map.tif'),
        stack.RasterXSize, stack.RasterYSize, 1, gdal.GDT_Byte)
    class_map.SetGeoTransform(stack.GetGeoTransform())
    class_map.SetProjection(stack.GetProjection())
    class_map.GetRasterBand(1).WriteArray(classes)
    class_map = None

    images = list(datasets.AlcdReferences(str(root), str(tmp_path / 'stacks'), stack_product))

    assert [image.name for image in images] == ['Toulouse_31TCJ_20240120']
    image = images[0]
    expected = stack.ReadAsArray()
    np.testing.assert_array_equal(image.reflectance, expected)
    valid = np.isfinite(expected).all(axis=0)
    assert valid.sum() == 16  # the 4 x 4 inner 60 m pixels of the 30 x 30 px 10 m crop
    assert (image.labels[~valid] == -1).all()
    assert (image.labels[valid & np.isin(classes, (2, 3))] == 1).all()
    assert (image.labels[valid & np.isin(classes, (4, 5, 6, 7))] == 0).all()
    assert (image.labels[np.isin(classes, (0, 1))] == -1).all()


def test_find_l1c_product_says_where_it_looked(tmp_path):
    (tmp_path / 'Arles_31TFJ_20171002').mkdir()
    with pytest.raises(FileNotFoundError, match='same tile and date'):
        datasets.find_l1c_product(str(tmp_path / 'Arles_31TFJ_20171002'))


def test_synthetic_cloud_follows_the_two_stream_model():
    surface = np.full((13, 2, 2), 0.1, np.float32)
    surface[:, 1, 1] = np.nan
    tau = np.array([[0.0, 2.0], [40.0, 2.0]], np.float32)
    toa = synthetic.composite(surface, tau, 'cumulus')
    np.testing.assert_allclose(toa[:, 0, 0], 0.1, rtol=1e-6)  # no cloud: the surface itself
    cloud_r = 0.15 * 2 / (2 + 0.15 * 2)  # g = 0.85, tau = 2
    expected = cloud_r + (1 - cloud_r) ** 2 * 0.1 / (1 - cloud_r * 0.1)
    assert toa[1, 0, 1] == pytest.approx(expected, rel=1e-5)  # B02, k = 1
    assert toa[10, 0, 1] < toa[1, 0, 1]  # B10 sees a low cloud only weakly
    assert toa[1, 1, 0] > 0.7  # thick cumulus is bright
    assert np.isnan(toa[:, 1, 1]).all()  # no data stays no data


def test_synthetic_images_label_cloud_exactly_where_tau_is_large():
    reflectance = _betsiboka_patch('clear')
    labels = np.zeros((16, 16), np.int8)
    image = LabelledImage('clear patch', reflectance, labels)
    layers = synthetic.synthetic_images(image, 3, seed=0)
    assert [layer.source for layer in layers] == ['synthetic'] * 3
    for layer in layers:
        brighter = layer.reflectance[1] > reflectance[1] + 1e-6
        assert (layer.labels[~brighter] == 0).all()  # untouched pixels keep their label
        assert set(np.unique(layer.labels)) <= {-1, 0, 1}


def _half_cloud_patch():
    """The real cloudy Betsiboka patch, its left half labelled cloud, the right half clear."""
    labels = np.zeros((16, 16), np.int8)
    labels[:, :8] = 1
    return LabelledImage('half cloud', _betsiboka_patch('cloudy'), labels)


def test_atmosphere_variant_changes_only_the_sky_bands_and_keeps_clear_labels():
    image = _half_cloud_patch()
    original, a = image.reflectance, atmosphere
    variant = a.atmosphere_variant(image, np.random.default_rng(3), 0)
    assert variant.source == 'sky variant' and variant.name == 'half cloud + atmosphere 0'
    transmittance = variant.reflectance[a.B09] / original[a.B8A]
    low, high = a.VAPOUR_TRANSMITTANCE
    assert low <= transmittance.min() and transmittance.max() <= high
    assert np.ptp(transmittance) < 1e-5  # one sky for the whole image
    leak = (variant.reflectance[a.B10] - original[a.B10]) / original[a.B11]
    assert 0 <= leak.min() and np.ptp(leak) < 1e-4 and leak.max() <= a.B10_SURFACE_SHARE
    aerosol = variant.reflectance[a.B01] / original[a.B01]
    assert np.ptp(aerosol) < 1e-5 and abs(np.log(aerosol[0, 0])) <= a.AEROSOL_LOG_RANGE
    others = [band for band in range(13) if band not in (a.B01, a.B09, a.B10)]
    np.testing.assert_array_equal(variant.reflectance[others], original[others])
    # A cloud top lies above the vapour: its pixels are no target under the changed sky.
    assert (variant.labels[:, :8] == -1).all() and (variant.labels[:, 8:] == 0).all()


def test_illumination_variant_scales_every_band_and_keeps_every_label():
    image = _half_cloud_patch()
    variant = atmosphere.illumination_variant(image, np.random.default_rng(5), 2)
    gain = variant.reflectance / image.reflectance
    assert np.ptp(gain) < 1e-5 and 0.6 <= gain.min() and gain.max() <= 1.4
    np.testing.assert_array_equal(variant.labels, image.labels)


def test_sky_variants_are_seeded():
    image = _half_cloud_patch()
    first, second = (atmosphere.sky_variants(image, 2, 1, seed=7) for _ in range(2))
    assert [v.name for v in first] == ['half cloud + atmosphere 0', 'half cloud + atmosphere 1',
                                       'half cloud + illumination 0']
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.reflectance, b.reflectance)
    assert not np.array_equal(first[0].reflectance, first[1].reflectance)


def test_fmask_rules_on_real_patches():
    cloudy = _betsiboka_patch('cloudy')
    clear = _betsiboka_patch('clear')
    assert fmask_tests(cloudy)[0].all() and not fmask_tests(cloudy)[1].any()
    assert fmask_tests(clear)[1].all() and not fmask_tests(clear)[0].any()


def _smoke(tmp_path, name):
    return train.main([
        '--dataset', 'oncloudn', '--data', data_path('training', 'oncloudn'),
        '--heldout', 'jaag', '--epochs', '1', '--steps', '4', '--heldout-steps', '2',
        '--threads', '1', '--output', str(tmp_path / name / 'model.onnx'),
        '--results', str(tmp_path / name)])


def test_smoke_training_run_exports_a_valid_reproducible_model(tmp_path):
    summary = _smoke(tmp_path, 'a')
    again = _smoke(tmp_path, 'b')

    path = str(tmp_path / 'a' / 'model.onnx')
    proto = onnx.load(path)
    meta = parse_metadata({p.key: p.value for p in proto.metadata_props}, path)
    assert meta.bands == ('B02', 'B03', 'B04', 'B08') and meta.resolution_m == 10
    assert meta.filters == (8, 16, 32) and meta.variant == 'leakyrelu'
    assert meta.patch_size == 16 and meta.padding == 8
    assert 'human labels' in meta.trained_on and 'jaag' in meta.trained_on
    assert set(meta.heldout_metrics) >= {'nature', 'labelled'}
    assert [o.name for o in proto.graph.output] == [
        'probability', 'conv1', 'conv2', 'conv3', 'conv1_linear', 'conv2_linear',
        'conv3_linear']
    assert summary['export_check']['probability_max_abs_diff'] <= 1e-5
    assert summary['sha256'] == again['sha256']  # seeded: the same bytes twice
    with open(tmp_path / 'a' / 'curves.csv') as handle:
        curves = list(csv.DictReader(handle))
    assert len(curves) == 1 and 0 <= float(curves[0]['heldout_accuracy']) <= 1
    with open(tmp_path / 'a' / 'heldout_metrics.csv') as handle:
        rows = {row['image']: row for row in csv.DictReader(handle)}
    assert int(rows['jaag']['pixels']) == 48 * 48
    assert os.path.getsize(tmp_path / 'a' / 'curves.png') > 1000
    with open(tmp_path / 'a' / 'summary.json') as handle:
        assert json.load(handle)['model_id'] == 's2cloudcnn-rgbn'


def test_label_screen_flags_labels_that_contradict_their_image():
    images = list(datasets.OnCloudN(data_path('training', 'oncloudn')))
    assert [image.name for image in images] == ['adwu', 'jaag']
    assert all(datasets.blue_rule_agreement(image) >= 0.7 for image in images)
    swapped = LabelledImage('swapped', images[0].reflectance,
                                      (1 - images[0].labels).astype(np.int8))
    assert datasets.blue_rule_agreement(swapped) < 0.3


@pytest.mark.parametrize('variant', ['leakyrelu', 'relu', 'bn_leakyrelu'])
def test_every_variant_exports_and_matches_pytorch_on_real_patches(tmp_path, variant):
    from algorithms.core.detection.contract import ModelMetadata
    from algorithms.core.sentinel2.bands import L1C_BANDS
    from models.training.export import check_export, export_onnx
    from models.training.network import CloudCnn

    patches = np.stack([_betsiboka_patch(kind) for kind in ('cloudy', 'clear')])
    model = CloudCnn(patches.mean(axis=(0, 2, 3)), patches.std(axis=(0, 2, 3)),
                     filters=(4, 8, 16), variant=variant)
    meta = ModelMetadata(
        model_id='variant-test', version='0', bands=L1C_BANDS, resolution_m=60.0, patch_size=16,
        padding=8, input_kind='toa_reflectance',
        band_mean=tuple(model.band_mean.flatten().tolist()),
        band_std=tuple(model.band_std.flatten().tolist()),
        threshold=0.5, variant=variant, filters=(4, 8, 16), trained_on='nothing (untrained)')
    path = export_onnx(model, meta, str(tmp_path / 'model.onnx'))
    check = check_export(model, path, patches)
    assert check['probability_max_abs_diff'] <= 1e-5
    # Contract schema 2: the metadata's first layer is the graph's own (batch norm folded).
    stated, (weights, bias, alpha) = read_model(path)[0].conv1, graph_first_layer(path)
    assert stated.weights.tobytes() == weights.tobytes() and stated.bias.tobytes() == bias.tobytes()
    assert stated.negative_slope == alpha
    batch_norm = [n for n in onnx.load(path).graph.node if n.op_type == 'BatchNormalization']
    # Batch norm is folded into the convolution by the exporter in eval mode, or kept.
    assert variant == 'bn_leakyrelu' or not batch_norm
