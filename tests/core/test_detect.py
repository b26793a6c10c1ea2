"""Detection core on real data: the fast path equals the paper's patch-by-patch rule."""

import os
import sys

import numpy as np
import pytest
from conftest import data_path
from detect_helpers import (
    CROP,
    SHIPPED_MODEL,
    band_names,
    copy_crop,
    naive_probabilities,
    read,
    read_all,
    write_like,
)
from osgeo import gdal

from algorithms.core.detection import inference
from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.errors import CancelledError, DependencyMissingError
from algorithms.core.run import RunContext

# Fast and plain paths sum the same products in another order: float32 rounding only.
PROBABILITY_TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def model():
    return str(SHIPPED_MODEL)  # the real shipped default model


def run(tmp_path, source, model, **options):
    options.setdefault('provider', 'cpu')
    options.setdefault('probability_path', str(tmp_path / 'prob.tif'))
    result = detect_clouds(str(source), str(tmp_path / 'mask.tif'), str(model),
                           DetectOptions(**options))
    return result, read(tmp_path / 'mask.tif'), read(tmp_path / 'prob.tif')


def test_fast_path_equals_naive_patch_by_patch_on_real_data(tmp_path, model):
    # A corner window (image border: zero padding) with a no-data hole inside the context.
    source = copy_crop(tmp_path)
    image = read_all(source)
    image[:, 10:13, 110:114] = np.nan
    write_like(source, CROP, image, band_names(CROP))
    transform = gdal.Open(str(source)).GetGeoTransform()
    x0, y0 = transform[0] + 100 * 60, transform[3] - 24 * 60
    extent = (x0, y0, x0 + 28 * 60, transform[3])  # rows 0-23, cols 100-127
    result, mask, prob = run(tmp_path, source, model, extent=extent)
    assert result.fast_path and prob.shape == (24, 28)
    rows, cols = np.mgrid[0:24, 100:128]
    expected = naive_probabilities(model, image, rows.ravel(), cols.ravel()).reshape(24, 28)
    hole = ~np.isfinite(image[0, 0:24, 100:128])
    assert np.isnan(prob[hole]).all() and (mask[hole] == 255).all()
    assert np.nanmax(np.abs(prob - expected)[~hole]) <= PROBABILITY_TOLERANCE
    assert ((prob[~hole] >= result.threshold) == (mask[~hole] == 1)).all()


def test_plain_path_agrees_and_blocks_do_not_matter(tmp_path, model):
    fast, mask, prob = run(tmp_path, CROP, model, block_size=50, batch_size=97)
    (tmp_path / 'plain').mkdir()
    plain, mask2, prob2 = run(tmp_path / 'plain', CROP, model, shared_conv=False)
    assert fast.fast_path and not plain.fast_path
    assert np.abs(prob - prob2).max() <= PROBABILITY_TOLERANCE
    assert fast.valid_pixels == 128 * 128
    assert set(np.unique(mask)) <= {0, 1}


@pytest.mark.parametrize('shared_conv', [True, False])
def test_io_binding_path_run_on_the_cpu_gives_the_same_probabilities(tmp_path, model,
                                                                     shared_conv):
    # The path a CUDA session takes (Session.run through IOBinding), here on the CPU provider.
    runs = {}
    for io_binding in (True, None):
        folder = tmp_path / str(io_binding)
        folder.mkdir()
        messages = []
        result = detect_clouds(str(CROP), str(folder / 'mask.tif'), str(model),
                               DetectOptions(provider='cpu', shared_conv=shared_conv,
                                             io_binding=io_binding,
                                             probability_path=str(folder / 'prob.tif')),
                               RunContext(log=messages.append))
        assert result.fast_path == shared_conv
        runs[io_binding] = read(folder / 'prob.tif'), ' '.join(messages)
    (bound, bound_log), (normal, normal_log) = runs[True], runs[None]
    assert 'through onnxruntime IOBinding' in bound_log
    assert 'IOBinding' not in normal_log  # the CPU's default stays the plain session.run
    assert np.isfinite(bound).all() and np.abs(bound - normal).max() <= 1e-6


def test_extent_in_another_crs_covers_the_same_ground(tmp_path, model):
    from osgeo import osr

    transform = gdal.Open(str(CROP)).GetGeoTransform()
    x0, y0 = transform[0] + 40 * 60, transform[3] - 60 * 60
    utm_box = (x0, y0, x0 + 30 * 60, y0 + 20 * 60)  # rows 40-59, cols 40-69
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromWkt(gdal.Open(str(CROP)).GetProjection())
    wgs84.ImportFromEPSG(4326)
    for srs in (utm, wgs84):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    corners = [to_wgs84.TransformPoint(x, y)[:2] for x in utm_box[::2] for y in utm_box[1::2]]
    lon, lat = zip(*corners)
    _, whole, _ = run(tmp_path, CROP, model)
    (tmp_path / 'wgs84').mkdir()
    result, mask, _ = run(tmp_path / 'wgs84', CROP, model, extent_crs='EPSG:4326',
                          extent=(min(lon), min(lat), max(lon), max(lat)))
    out = gdal.Open(str(tmp_path / 'wgs84' / 'mask.tif')).GetGeoTransform()
    col, row = round((out[0] - transform[0]) / 60), round((transform[3] - out[3]) / 60)
    assert col <= 40 and row <= 40  # the box in degrees covers at least the UTM window
    assert col + mask.shape[1] >= 70 and row + mask.shape[0] >= 60
    assert np.array_equal(mask, whole[row:row + mask.shape[0], col:col + mask.shape[1]])


def test_bands_are_matched_by_description_in_any_order(tmp_path, model):
    image = read_all(CROP)
    names = band_names(CROP)
    order = np.random.default_rng(3).permutation(13)
    shuffled = write_like(tmp_path / 'shuffled.tif', CROP, image[order], [names[i] for i in order])
    _, _, reference = run(tmp_path, CROP, model)
    _, _, prob = run(tmp_path, shuffled, model)
    assert np.abs(prob - reference).max() <= PROBABILITY_TOLERANCE


def test_integer_rasters_are_read_as_reflectance_times_10000(tmp_path, model):
    image = read_all(CROP)
    names = band_names(CROP)
    dn = write_like(tmp_path / 'dn.tif', CROP, np.round(image * 10000).astype(np.uint16), names,
                    nodata=0, data_type=gdal.GDT_UInt16)
    _, _, reference = run(tmp_path, CROP, model)
    _, _, prob = run(tmp_path, dn, model)
    assert np.abs(prob - reference).max() <= 1e-4  # DN rounding is the crop's own precision


def test_cancel_leaves_nothing(tmp_path, model):
    calls = []

    def cancel_on_second_check():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(CancelledError):
        detect_clouds(str(CROP), str(tmp_path / 'mask.tif'), str(model),
                      DetectOptions(provider='cpu', batch_size=64,
                                    probability_path=str(tmp_path / 'p.tif')),
                      RunContext(is_canceled=cancel_on_second_check))
    assert os.listdir(tmp_path) == []


def test_native_grid_mask_repeats_each_60m_pixel(tmp_path, model):
    result, mask, _ = run(tmp_path, CROP, model, native_resolution=20,
                          native_mask_path=str(tmp_path / 'mask20.tif'))
    native = read(result.native_mask_path)
    assert native.shape == (3 * 128, 3 * 128)
    assert (native[1::3, 2::3] == mask).all()
    assert gdal.Open(result.native_mask_path).GetGeoTransform()[1] == 20


def test_missing_onnxruntime_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(DependencyMissingError, match='pip.* install .*onnxruntime'):
        inference.import_onnxruntime()


def test_forced_cuda_without_gpu_runs_on_cpu_and_says_why(model):
    session = inference.open_session(str(model), 'cuda')
    assert session.provider == 'CPUExecutionProvider'
    assert 'CUDA' in session.note and len(session.note) > 30
    assert not session.io_binding  # IOBinding by default only where CUDA runs


def test_without_protobuf_the_plain_path_runs_and_says_so(tmp_path, model, monkeypatch):
    from algorithms.core.detection import onnx_graph

    def no_protobuf(_bytes):
        raise ImportError('No module named google.protobuf')

    monkeypatch.setattr(onnx_graph, 'load', no_protobuf)
    messages = []
    result = detect_clouds(str(CROP), str(tmp_path / 'mask.tif'), str(model),
                           DetectOptions(provider='cpu', extent=None),
                           RunContext(log=messages.append))
    assert not result.fast_path and result.valid_pixels == 128 * 128
    assert any('protobuf is not installed' in m for m in messages)


def test_cancel_is_honoured_within_two_seconds(tmp_path, model):
    import threading
    import time

    big = write_like(tmp_path / 'big.tif', CROP, np.tile(read_all(CROP), (1, 8, 8)),
                     band_names(CROP))  # 1024 x 1024: several seconds of work
    cancelled, outcome, progress = [], [], []

    def run_detection():
        try:
            detect_clouds(str(big), str(tmp_path / 'mask.tif'), str(model),
                          DetectOptions(provider='cpu'),
                          RunContext(progress.append, lambda: bool(cancelled)))
        except CancelledError:
            outcome.append('cancelled')

    worker = threading.Thread(target=run_detection)
    worker.start()
    time.sleep(0.5)
    cancelled.append(True)
    worker.join(timeout=30)
    # Stopped part-way: the run raised CancelledError before its progress reached the end.
    assert not worker.is_alive() and outcome == ['cancelled']
    assert max(progress, default=0) < 100
    assert not (tmp_path / 'mask.tif').exists()


def test_rgbn_model_on_a_real_four_band_10m_raster_against_human_labels(tmp_path):
    # The 4-band model on real L2A B02 B03 B04 B08 (UInt16 = reflectance x 10000) of a chip
    # held out from its training; the people's label says 34 % cloud in this crop.
    from detect_helpers import RGBN_CROP, RGBN_MODEL

    result, mask, _ = run(tmp_path, RGBN_CROP, RGBN_MODEL)
    label = read(data_path('oncloudn', 'jaag.tif'))[128:256, 0:128]
    assert result.fast_path and mask.shape == label.shape == (128, 128)
    called, truth = mask == 1, label == 1
    accuracy = (called == truth).mean()
    assert accuracy > 0.75  # measured 0.81; calling everything clear would score 0.66
    assert (called & truth).sum() / called.sum() > 0.95  # measured precision 1.0
