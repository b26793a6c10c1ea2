"""Kernel database and feature maps (issue 7): every number checked against the real ONNX model."""

import csv
import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
from conftest import REPO, data_path
from osgeo import gdal

from algorithms.core.detection.inference import read_model
from algorithms.core.errors import (
    BandMismatchError,
    CancelledError,
    InvalidRasterError,
    KernelFileError,
    MappingError,
    ModelError,
)
from algorithms.core.evaluation.metrics import parse_values
from algorithms.core.inspection import features, first_layer, kernel_file, kernels
from algorithms.core.inspection.features import MapOptions
from algorithms.core.raster_io import create_geotiff
from algorithms.core.run import RunContext
from algorithms.core.sentinel2.bands import L1C_BANDS, band_description

MODEL = os.path.join(REPO, 'models', 's2cloudcnn-l1c13.onnx')  # the shipped default model
STACK = data_path('inspection', 'betsiboka_crop64_refl13.tif')
# Float32 graph vs float64 numpy sums of ~120 products: agreement to a few 1e-6 (measured
# 7e-6 at most on maps up to ~4); the tolerance leaves a margin of ~10.
MAP_TOLERANCE = 1e-4


@pytest.fixture(scope='module')
def model():
    meta, session = read_model(MODEL)
    return meta, first_layer.model_runner(session, meta)


@pytest.fixture(scope='module')
def scene():
    """The real crop as the model sees it: [bands, h, w] reflectance with the 8-px zero border."""
    values = gdal.Open(STACK).ReadAsArray().astype(np.float32)
    return np.pad(values, ((0, 0), (8, 8), (8, 8)))


def _patches(scene, pixels):
    return np.stack([scene[:, r:r + 16, c:c + 16] for r, c in pixels])


def _correlate(inputs, weights, bias):
    """Reference 3x3 'same' cross-correlation of [N, C, S, S] in float64 (zero padding)."""
    padded = np.pad(inputs.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    size = inputs.shape[-1]
    out = np.zeros((inputs.shape[0], len(bias), size, size)) + bias[None, :, None, None]
    for i in range(3):
        for j in range(3):
            out += np.einsum('fc,ncyx->nfyx', weights[:, :, i, j],
                             padded[:, :, i:i + size, j:j + size])
    return out


def test_probed_first_layer_reproduces_conv1_linear_on_real_patches(model, scene):
    meta, run = model
    probed = first_layer.probe_first_layer(run, meta)
    assert probed['residual'] < 1e-4
    patches = _patches(scene, [(0, 0), (20, 30), (40, 5), (63, 63)])
    linear, = run(patches, [meta.linear_outputs[0]])
    mean = np.asarray(meta.band_mean)[None, :, None, None]
    std = np.asarray(meta.band_std)[None, :, None, None]
    normalised = probed['normalised']
    expected = _correlate((patches - mean) / std, normalised['weights'], normalised['bias'])
    np.testing.assert_allclose(linear, expected, atol=MAP_TOLERANCE)
    # Reflectance kernels: exact at interior cells (the patch border pads z, not reflectance).
    reflectance = probed['reflectance']
    direct = _correlate(patches, reflectance['weights'], reflectance['bias'])
    np.testing.assert_allclose(linear[:, :, 1:-1, 1:-1], direct[:, :, 1:-1, 1:-1],
                               atol=MAP_TOLERANCE)
    assert np.abs(linear[:, :, 0] - direct[:, :, 0]).max() > 1e-3  # the border does differ


@pytest.mark.parametrize('layer', [2, 3])
def test_probed_deeper_layer_reproduces_the_model_on_real_patches(model, scene, layer):
    meta, run = model
    probed = kernels.probe_deeper_layer(run, meta, layer)
    pooled = probed['pooled']
    patches = _patches(scene, [(r, c) for r in range(0, 64, 9) for c in range(0, 64, 13)])
    previous, linear = run(patches, [meta.feature_outputs[layer - 2],
                                     meta.linear_outputs[layer - 1]])
    expected = _correlate(kernels.max_pool2(previous), np.nan_to_num(pooled['weights']),
                          pooled['bias'])
    np.testing.assert_allclose(linear, expected, atol=MAP_TOLERANCE * max(1, np.abs(linear).max()))


def test_activation_matches_the_variant(model):
    meta, run = model
    activation = first_layer.activation_of(run, meta, 1)
    assert activation['name'] == ('relu' if meta.variant == 'relu' else 'leaky_relu')
    act, linear = run(np.full((1, len(meta.bands), 16, 16), 0.2, np.float32),
                      [meta.feature_outputs[0], meta.linear_outputs[0]])
    slope = activation['negative_slope']
    np.testing.assert_allclose(act, np.where(linear > 0, linear, slope * linear), atol=1e-6)


def test_band_summary_by_hand():
    weights = np.zeros((1, 3, 3, 3))
    weights[0, 0] = 1.0          # L1 = 9
    weights[0, 1, 1, 1] = -2.0   # L1 = 2
    weights[0, 2, 0] = [0.5, -0.5, 1.0]  # L1 = 2
    summary, = kernels.band_summary(weights, ['B01', 'B02', 'B03'])
    assert summary['l1'] == {'B01': 9.0, 'B02': 2.0, 'B03': 2.0}
    assert summary['share']['B01'] == pytest.approx(9 / 13)
    assert summary['strongest'] == ['B01', 'B02', 'B03']


def test_database_json_and_csv_round_trip(model, tmp_path):
    meta, _ = model
    json_path, csv_path = tmp_path / 'k1.json', tmp_path / 'k1.csv'
    document = kernel_file.export_database(MODEL, 1, str(json_path), str(csv_path))
    stored = json.loads(json_path.read_text())
    assert stored['model']['model_id'] == meta.model_id
    assert stored['bands'] == list(meta.bands) and stored['inputs'] == list(meta.bands)
    assert stored['activation']['name'] in ('leaky_relu', 'relu')
    assert stored['normalisation']['band_std'] == pytest.approx(list(meta.band_std))
    filters = meta.filters[0]
    assert np.asarray(stored['kernels']['normalised']['weights']).shape == (filters, 13, 3, 3)
    read = kernel_file.read_first_layer(str(json_path))
    np.testing.assert_array_equal(read['weights'], document['kernels']['reflectance']['weights'])
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 2 * filters * 13
    row = next(r for r in rows if r['space'] == 'normalised' and r['filter'] == '2'
               and r['input'] == 'B10')
    kernel = document['kernels']['normalised']['weights'][1][L1C_BANDS.index('B10')]
    assert float(row['w12']) == pytest.approx(kernel[0][1])
    assert float(row['l1_norm']) == pytest.approx(np.abs(kernel).sum())
    first = [r['input'] for r in rows if r['space'] == 'normalised' and r['filter'] == '2'
             and r['rank'] == '1']
    assert first == stored['summary'][1]['strongest'][:1]


def test_deeper_layer_database_names_its_inputs(model, tmp_path):
    meta, _ = model
    document = kernel_file.export_database(MODEL, 3, str(tmp_path / 'k3.json'))
    assert document['inputs'][0] == 'conv2 filter 01'
    assert len(document['inputs']) == meta.filters[1]
    assert list(document['kernels']) == ['pooled']
    with pytest.raises(KernelFileError, match='export layer 1'):
        kernel_file.read_first_layer(str(tmp_path / 'k3.json'))


def test_a_layer_that_does_not_exist(model, tmp_path):
    meta, _ = model
    count = len(meta.filters)
    with pytest.raises(ModelError, match=f'choose a layer from 1 to {count}'):
        kernel_file.export_database(MODEL, count + 1, str(tmp_path / 'k.json'))
    with pytest.raises(ModelError, match='layer from 1'):
        features.export_feature_maps(STACK, MODEL, str(tmp_path / 'm.tif'), 0)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize('content, message', [
    ('not json at all', 'is not a kernel database'),
    ('{"format": "geojson"}', 'no "format"'),
    ('{"format": "s2cloudcnn-kernels", "format_version": 1, "layer": 1, "bands": ["B01"]}',
     'incomplete kernel database'),
])
def test_files_that_are_not_kernel_databases(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(KernelFileError, match=message):
        kernel_file.read_first_layer(str(path))


def read_maps(path):
    """Return (maps [bands, rows, cols], the open dataset) of a written feature-map raster."""
    dataset = gdal.Open(path)
    return dataset.ReadAsArray().reshape(dataset.RasterCount, dataset.RasterYSize, -1), dataset


def test_layer1_maps_are_conv1_at_each_pixels_patch_centre(model, scene, tmp_path):
    meta, run = model
    out = str(tmp_path / 'maps1.tif')
    result = features.export_feature_maps(STACK, MODEL, out, 1,
                                          MapOptions(filters=[1, 3], block_size=40))
    maps, dataset = read_maps(out)
    assert (dataset.RasterXSize, dataset.RasterYSize) == (64, 64)
    assert dataset.GetGeoTransform() == gdal.Open(STACK).GetGeoTransform()
    assert [dataset.GetRasterBand(i).GetDescription() for i in (1, 2)] == \
        ['conv1 filter 01', 'conv1 filter 03'] == result.descriptions
    assert dataset.GetMetadataItem('MODEL_ID') == meta.model_id
    pixels = [(0, 0), (0, 63), (13, 14), (14, 13), (39, 40), (63, 0), (63, 63)]
    conv1, = run(_patches(scene, pixels), [meta.feature_outputs[0]])
    for k, (r, c) in enumerate(pixels):
        np.testing.assert_allclose(maps[:, r, c], conv1[k, [0, 2], 8, 8], atol=MAP_TOLERANCE)
    assert result.stats[0]['min'] == pytest.approx(float(maps[0].min()))


@pytest.mark.parametrize('layer', [2, 3])
def test_deeper_maps_are_the_centre_cell_of_each_pixels_patch(model, scene, tmp_path, layer):
    meta, run = model
    out = str(tmp_path / f'maps{layer}.tif')
    features.export_feature_maps(STACK, MODEL, out, layer, MapOptions(filters=[2], block_size=48))
    maps, _ = read_maps(out)
    cell = 8 >> (layer - 1)
    pixels = [(0, 0), (5, 60), (47, 47), (48, 48), (63, 10)]
    conv, = run(_patches(scene, pixels), [meta.feature_outputs[layer - 1]])
    for k, (r, c) in enumerate(pixels):
        assert maps[0, r, c] == pytest.approx(conv[k, 1, cell, cell], abs=MAP_TOLERANCE)


def _stack_with_holes(tmp_path):
    """The real crop with a 3 x 4 block of no data (NaN) and one pixel NaN in B10 only."""
    path = str(tmp_path / 'holes.tif')
    shutil.copy(STACK, path)
    dataset = gdal.Open(path, gdal.GA_Update)
    for index in range(1, 14):
        band = dataset.GetRasterBand(index)
        values = band.ReadAsArray()
        values[30:33, 20:24] = np.nan
        if index == 11:
            values[5, 5] = np.nan
        band.WriteArray(values)
    dataset = None
    return path


def test_apply_kernels_reproduces_the_models_maps_with_no_data(tmp_path):
    stack = _stack_with_holes(tmp_path)
    kernel_path = str(tmp_path / 'k1.json')
    kernel_file.export_database(MODEL, 1, kernel_path)
    features.export_feature_maps(stack, MODEL, str(tmp_path / 'model.tif'), 1,
                                 MapOptions(block_size=24))
    result = features.apply_kernels(stack, kernel_path, str(tmp_path / 'applied.tif'),
                                    MapOptions(block_size=40))
    model_maps, _ = read_maps(str(tmp_path / 'model.tif'))
    applied, dataset = read_maps(result.path)
    assert np.isnan(applied[:, 30:33, 20:24]).all() and np.isnan(applied[:, 5, 5]).all()
    assert np.array_equal(np.isnan(applied), np.isnan(model_maps))
    assert np.isfinite(applied).sum() == applied.shape[0] * (64 * 64 - 13)
    np.testing.assert_allclose(applied, model_maps, atol=MAP_TOLERANCE)
    assert dataset.GetRasterBand(1).GetDescription() == 'conv1 filter 01'


def test_apply_kernels_picks_bands_by_description_and_refuses_missing_ones(tmp_path):
    kernel_path = str(tmp_path / 'k1.json')
    kernel_file.export_database(MODEL, 1, kernel_path)
    source = gdal.Open(STACK)
    order = list(reversed(L1C_BANDS))  # same bands, other order: matched by description
    shuffled = str(tmp_path / 'reversed.tif')
    dataset = create_geotiff(shuffled, 64, 64, 13, gdal.GDT_Float32, source.GetGeoTransform(),
                             source.GetProjection(), nodata=float('nan'))
    for k, band in enumerate(order, start=1):
        dataset.GetRasterBand(k).WriteArray(
            source.GetRasterBand(L1C_BANDS.index(band) + 1).ReadAsArray())
        dataset.GetRasterBand(k).SetDescription(band_description(band))
    dataset = None
    a = features.apply_kernels(STACK, kernel_path, str(tmp_path / 'a.tif'), MapOptions(filters=[4]))
    b = features.apply_kernels(shuffled, kernel_path, str(tmp_path / 'b.tif'),
                               MapOptions(filters=[4]))
    np.testing.assert_array_equal(read_maps(a.path)[0], read_maps(b.path)[0])
    four = str(tmp_path / 'rgbn.tif')
    gdal.Translate(four, STACK, bandList=[2, 3, 4, 8])
    with pytest.raises(BandMismatchError,
                       match='for other bands: .*lacks the model bands B01, B05'):
        features.apply_kernels(four, kernel_path, str(tmp_path / 'c.tif'))
    assert not os.path.exists(tmp_path / 'c.tif')


def test_feature_maps_need_the_models_resolution(tmp_path):
    coarse = str(tmp_path / 'coarse.tif')
    gdal.Translate(coarse, STACK, xRes=120, yRes=120)
    with pytest.raises(InvalidRasterError, match='resample the raster to 60 m'):
        features.export_feature_maps(coarse, MODEL, str(tmp_path / 'maps.tif'), 1)
    assert not os.path.exists(tmp_path / 'maps.tif')


def test_bad_filters_and_cancel_leave_nothing(tmp_path):
    out = tmp_path / 'maps.tif'
    with pytest.raises(ModelError, match='do not exist'):
        features.export_feature_maps(STACK, MODEL, str(out), 1, MapOptions(filters=[1, 999]))
    with pytest.raises(MappingError):
        parse_values('1, x', 'filters')
    with pytest.raises(CancelledError):
        features.export_feature_maps(STACK, MODEL, str(out), 1, MapOptions(block_size=16),
                                     run_context=RunContext(is_canceled=lambda: True))
    assert not os.listdir(tmp_path)


def test_report_has_a_contact_sheet_of_every_map(tmp_path):
    out, report = str(tmp_path / 'maps.tif'), str(tmp_path / 'report.html')
    result = features.export_feature_maps(STACK, MODEL, out, 1, MapOptions(report_path=report))
    text = open(report, encoding='utf-8').read()
    png = tmp_path / 'report_maps.png'
    assert 'src="report_maps.png"' in text and png.stat().st_size > 5000
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    for label in result.descriptions:
        assert label in text
    assert 'cell (8, 8)' in text


@pytest.mark.parametrize('variant', ['bn_leakyrelu', 'relu'])
def test_probes_read_back_the_exact_weights_of_the_other_variants(tmp_path, variant):
    """Edge case beside the shipped model: known PyTorch weights, batch norm folded by hand."""
    import torch

    from models.training.export import export_onnx
    from models.training.network import CloudCnn

    torch.manual_seed(7)
    meta = read_model(MODEL)[0]
    network = CloudCnn(meta.band_mean, meta.band_std, variant=variant)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        for norm in network.norms:
            if isinstance(norm, torch.nn.BatchNorm2d):
                norm.running_mean.normal_(0, 0.3)
                norm.running_var.uniform_(0.5, 2.0)
    network.eval()
    path = str(tmp_path / f'{variant}.onnx')
    export_onnx(network, dataclasses.replace(meta, variant=variant, filters=network.filters),
                path)
    probe_meta, session = read_model(path)
    run = first_layer.model_runner(session, probe_meta)
    for layer, conv in enumerate(network.convs, start=1):
        weight = conv.weight.detach().double().numpy()
        bias = 0.0 if conv.bias is None else conv.bias.detach().double().numpy()
        norm = network.norms[layer - 1]
        if isinstance(norm, torch.nn.BatchNorm2d):  # (conv - mean) * gamma / sqrt(var + eps) + beta
            gamma, beta = norm.weight.detach().double(), norm.bias.detach().double()
            scale = (gamma / torch.sqrt(norm.running_var.double() + norm.eps)).numpy()
            weight = weight * scale[:, None, None, None]
            bias = (bias - norm.running_mean.double().numpy()) * scale + beta.numpy()
        probed = (first_layer.probe_first_layer(run, probe_meta)['normalised'] if layer == 1
                  else kernels.probe_deeper_layer(run, probe_meta, layer)['pooled'])
        np.testing.assert_allclose(probed['weights'], weight, atol=1e-4)
        np.testing.assert_allclose(probed['bias'], bias, atol=1e-4)
    expected = 'relu' if variant == 'relu' else 'leaky_relu'
    assert first_layer.activation_of(run, probe_meta, 2)['name'] == expected
