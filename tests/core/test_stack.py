"""The QGIS-free L1C reader and 60 m stack, on the real products of tests/data/l1c."""

import glob
import os
import shutil

import numpy as np
import pytest
from l1c_fixtures import (
    PDMC,
    T32UPV,
    T32UPV_CORNER,
    T32UPV_ORIGIN,
    TOULOUSE,
    TOULOUSE_B,
    band_file,
    extract,
    raw_block,
    read_stack,
)
from osgeo import gdal

from algorithms.core import errors
from algorithms.core.run import RunContext
from algorithms.core.sentinel2 import resample
from algorithms.core.sentinel2.bands import L1C_BANDS, band_description
from algorithms.core.sentinel2.product import open_product
from algorithms.core.sentinel2.stack import StackOptions, stack_l1c


@pytest.fixture(scope='module')
def toulouse_safe(tmp_path_factory):
    return extract(TOULOUSE, tmp_path_factory.mktemp('toulouse'))


@pytest.fixture(scope='module')
def t32upv_stack(tmp_path_factory):
    path = tmp_path_factory.mktemp('t32upv') / 'stack.tif'
    return stack_l1c(T32UPV, str(path), StackOptions(extent=T32UPV_CORNER))


def test_zip_metadata_baseline_05_has_offset():
    product = open_product(TOULOUSE)
    assert product.kind == 'SAFE zip'
    assert product.product_id == os.path.basename(TOULOUSE)[:-len('.SAFE.zip')]
    assert product.processing_baseline == '05.10'
    assert product.spacecraft == 'Sentinel-2A'
    assert product.sensing_time.startswith('2024-01-20T10:53:41')
    assert product.quantification == 10000
    assert set(product.offsets.values()) == {-1000.0}
    assert product.epsg_codes == [32631]
    assert all(p.startswith('/vsizip/') for ps in product.band_files[32631].values() for p in ps)


def test_zip_with_macosx_forks_baseline_02_has_no_offset():
    product = open_product(T32UPV)
    assert product.processing_baseline == '02.05'
    assert set(product.offsets.values()) == {0.0}
    files = product.band_files[32632]
    assert sorted(files) == sorted(L1C_BANDS)
    assert all(len(paths) == 1 and '__MACOSX' not in paths[0] and '/._' not in paths[0]
               for paths in files.values())
    assert product.grid_origins[32632] == T32UPV_ORIGIN


def test_pdmc_zip_and_its_metadata_xml(tmp_path):
    product = open_product(PDMC)
    assert product.kind == 'PDMC SAFE zip'
    assert product.product_id.startswith('S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211')
    assert product.processing_baseline == '02.00'
    assert product.main_epsg == 32632
    safe = extract(PDMC, tmp_path)
    xml = glob.glob(os.path.join(safe, 'S2A_OPER_MTD_SAFL1C_*.xml'))[0]
    from_xml = open_product(xml)
    assert from_xml.kind == 'PDMC SAFE'
    assert from_xml.metadata() == {**product.metadata(), 'PRODUCT_FORMAT': 'PDMC SAFE'}


def test_safe_folder_xml_band_folder_and_list_describe_the_same_product(toulouse_safe):
    img_data = os.path.dirname(band_file(toulouse_safe, 'B01'))
    band_list = sorted(glob.glob(os.path.join(img_data, '*_B*.jp2')))
    sources = [toulouse_safe, os.path.join(toulouse_safe, 'MTD_MSIL1C.xml'), img_data, band_list,
               os.path.dirname(img_data)]
    products = [open_product(s) for s in sources]
    assert [p.kind for p in products] == ['SAFE', 'SAFE'] + ['band files'] * 3
    for product in products:
        assert product.product_id == products[0].product_id
        assert product.offsets == products[0].offsets
        assert product.grid_origins == {32631: (300000.0, 4900020.0)}
        assert product.notes == []


def test_bare_band_files_assume_the_offset_from_the_sensing_date(tmp_path, toulouse_safe):
    for path in glob.glob(os.path.join(os.path.dirname(band_file(toulouse_safe, 'B01')), '*')):
        shutil.copy(path, tmp_path)
    product = open_product(str(tmp_path))
    assert set(product.offsets.values()) == {-1000.0}
    assert 'No MTD_MSIL1C.xml' in product.notes[0]
    result = stack_l1c(product, str(tmp_path / 'out' / 'stack.tif'))
    assert result.notes == product.notes
    assert 'No MTD_MSIL1C.xml' in read_stack(result.path)[1].GetMetadataItem('NOTES')


def test_granules_of_one_zone_are_mosaicked(tmp_path, toulouse_safe):
    # Two granules of the same zone (here the same crop twice, from two folders) go through the
    # VRT mosaic; the result must be the single granule's stack, cell for cell.
    img_data = os.path.dirname(band_file(toulouse_safe, 'B01'))
    twin = tmp_path / 'twin'
    shutil.copytree(img_data, twin)
    files = sorted(glob.glob(str(twin / '*_B*.jp2')) + glob.glob(img_data + '/*_B*.jp2'))
    product = open_product(files)
    assert {len(paths) for paths in product.band_files[32631].values()} == {2}
    mosaic = stack_l1c(product, str(tmp_path / 'mosaic.tif'))
    single = stack_l1c(img_data, str(tmp_path / 'single.tif'))
    np.testing.assert_array_equal(read_stack(mosaic.path)[0], read_stack(single.path)[0])


def test_l2a_band_files_are_refused(tmp_path, toulouse_safe):
    shutil.copy(band_file(toulouse_safe, 'B02'), tmp_path / 'T31TCJ_20240120T105341_B02_10m.jp2')
    with pytest.raises(errors.InvalidProductError, match='Level-2A.*needs Level-1C'):
        open_product(str(tmp_path))


def _expected_reflectance(source, band, x, y, offset, size_m=60):
    dn = raw_block(band_file(source, band), x, y, size_m)
    return np.nan if (dn == 0).any() else (dn.mean() + offset) / 10000.0


@pytest.mark.parametrize('zip_path', [TOULOUSE, TOULOUSE_B])
def test_toulouse_reflectance_is_dn_minus_1000_over_10000_area_mean(tmp_path, zip_path):
    result = stack_l1c(zip_path, str(tmp_path / 'stack.tif'))
    stack, dataset = read_stack(result.path)
    left, top = result.geotransform[0], result.geotransform[3]
    # The 30 x 30 px crops at 10 m start 20 m inside a 60 m pixel of the tile grid: the outer
    # ring of 60 m pixels is only partly imaged, hence no data.
    assert (left, top) == (349980.0, 4850040.0) and stack.shape == (13, 6, 6)
    assert np.isnan(stack[:, [0, -1], :]).all() and np.isnan(stack[:, :, [0, -1]]).all()
    assert np.isfinite(stack[:, 1:5, 1:5]).all() and result.valid_fraction == 16 / 36
    for band, (row, col) in (('B01', (1, 1)), ('B02', (2, 3)), ('B10', (4, 4)), ('B12', (3, 1))):
        expected = _expected_reflectance(zip_path, band, left + 60 * col, top - 60 * row, -1000)
        assert stack[L1C_BANDS.index(band), row, col] == pytest.approx(expected, rel=1e-6)


def test_t32upv_reflectance_has_no_offset_and_area_means_10_20_60_m(t32upv_stack):
    stack, _ = read_stack(t32upv_stack.path)
    left, top = t32upv_stack.geotransform[0], t32upv_stack.geotransform[3]
    checked = 0
    for band in ('B01', 'B02', 'B05', 'B08', 'B8A', 'B10', 'B11'):
        for row, col in ((3, 5), (40, 10), (90, 2)):
            expected = _expected_reflectance(T32UPV, band, left + 60 * col, top - 60 * row, 0)
            assert stack[L1C_BANDS.index(band), row, col] == pytest.approx(expected, rel=1e-6)
            checked += 1
    assert checked == 21


def test_a_pixel_is_nodata_on_every_band_if_any_source_pixel_is_dn_0(t32upv_stack):
    stack, _ = read_stack(t32upv_stack.path)
    left, top = t32upv_stack.geotransform[0], t32upv_stack.geotransform[3]
    expected_valid = np.ones((100, 160), bool)
    for band in L1C_BANDS:
        dn = raw_block(band_file(T32UPV, band), left, top, 9600)  # square: 160 x 160 pixels
        factor = dn.shape[1] // 160
        blocks = dn[:100 * factor].reshape(100, factor, 160, factor)
        expected_valid &= (blocks != 0).all(axis=(1, 3))
    finite = np.isfinite(stack)
    assert (finite == finite[0]).all()  # the same mask on all 13 bands
    assert (finite[0] == expected_valid).all()
    assert 0.3 < expected_valid.mean() < 1.0  # the crop holds the swath edge
    assert t32upv_stack.valid_fraction == pytest.approx(expected_valid.mean())


def test_stack_contract_grid_types_descriptions_metadata(t32upv_stack):
    stack, dataset = read_stack(t32upv_stack.path)
    assert stack.dtype == np.float32 and dataset.RasterCount == 13
    assert dataset.GetGeoTransform() == (600000.0, 60.0, 0.0, 5500020.0, 0.0, -60.0)
    assert dataset.GetSpatialRef().GetAuthorityCode(None) == '32632'
    band = dataset.GetRasterBand(1)
    assert np.isnan(band.GetNoDataValue()) and band.GetBlockSize() == [256, 256]
    assert dataset.GetMetadata('IMAGE_STRUCTURE')['COMPRESSION'] == 'DEFLATE'
    assert [dataset.GetRasterBand(i + 1).GetDescription() for i in range(13)] == \
        [band_description(b) for b in L1C_BANDS]
    metadata = dataset.GetMetadata()
    assert metadata['PRODUCT_ID'].endswith('T32UPV_20170430T103024')
    assert metadata['SPACECRAFT'] == 'Sentinel-2A'
    assert metadata['PROCESSING_BASELINE'] == '02.05'
    assert metadata['SENSING_TIME'].startswith('2017-04-30T10:30:21')
    assert metadata['RADIO_ADD_OFFSET'] == ','.join(['0'] * 13)
    assert metadata['SOURCE_RESOLUTION_M'].startswith('B01:60,B02:10,B03:10,B04:10,B05:20')
    assert 0.02 < np.nanmean(stack[1]) < 1.0  # reflectance in unit 1, not DN


def test_extent_is_snapped_outward_to_the_60_m_tile_grid(tmp_path, t32upv_stack):
    inner = (600010.0, 5494030.0, 609590.0, 5500000.0)
    result = stack_l1c(T32UPV, str(tmp_path / 'snapped.tif'),
                       StackOptions(extent=inner, block_rows=7))
    assert result.geotransform == t32upv_stack.geotransform
    assert (result.width, result.height) == (160, 100)
    # Seven-row blocks (block seams everywhere) give exactly the default blocks' values.
    np.testing.assert_array_equal(read_stack(result.path)[0], read_stack(t32upv_stack.path)[0])


def test_pdmc_stack_reads_the_oper_band_files(tmp_path):
    result = stack_l1c(PDMC, str(tmp_path / 'pdmc.tif'), StackOptions(extent=T32UPV_CORNER))
    stack, dataset = read_stack(result.path)
    assert dataset.GetMetadataItem('PRODUCT_FORMAT') == 'PDMC SAFE zip'
    expected = _expected_reflectance(PDMC, 'B04', 600000 + 60 * 7, 5500020 - 60 * 30, 0)
    assert stack[3, 30, 7] == pytest.approx(expected, rel=1e-6)


def test_resolution_120_m_is_the_area_mean_of_twelve_10_m_pixels(tmp_path):
    result = stack_l1c(T32UPV, str(tmp_path / 's120.tif'),
                       StackOptions(extent=T32UPV_CORNER, resolution=120))
    stack, _ = read_stack(result.path)
    assert stack.shape == (13, 50, 80)
    expected = _expected_reflectance(T32UPV, 'B03', 600000 + 120 * 4, 5500020 - 120 * 9, 0, 120)
    assert stack[2, 9, 4] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(errors.InvalidProductError, match='multiple of 60'):
        stack_l1c(T32UPV, str(tmp_path / 's90.tif'), StackOptions(resolution=90))


def test_progress_rises_to_100_and_cancel_leaves_nothing(tmp_path):
    seen = []
    stack_l1c(TOULOUSE, str(tmp_path / 'a.tif'), run_context=RunContext(progress=seen.append))
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) == 13
    calls = []

    def cancel_at_fifth_band():
        calls.append(1)
        return len(calls) >= 5

    out = tmp_path / 'cancelled' / 'b.tif'
    with pytest.raises(errors.CancelledError):
        stack_l1c(T32UPV, str(out), StackOptions(extent=T32UPV_CORNER),
                  RunContext(is_canceled=cancel_at_fifth_band))
    assert os.listdir(out.parent) == []


def test_all_nodata_extent_and_disjoint_extent_and_wrong_zone(tmp_path):
    out = tmp_path / 'o' / 'x.tif'
    with pytest.raises(errors.NoValidDataError, match='no valid pixel'):
        stack_l1c(T32UPV, str(out), StackOptions(extent=(700000, 5400000, 709800, 5409800)))
    with pytest.raises(errors.ExtentError, match='does not overlap'):
        stack_l1c(T32UPV, str(out), StackOptions(extent=(100000, 100000, 200000, 200000)))
    with pytest.raises(errors.InvalidProductError, match='EPSG:32632'):
        stack_l1c(T32UPV, str(out), StackOptions(epsg=32631))
    assert os.listdir(out.parent) == []


def test_never_overwrites_an_input(tmp_path, toulouse_safe):
    b01 = band_file(toulouse_safe, 'B01')
    with pytest.raises(errors.OutputPathError, match='also an input'):
        stack_l1c(toulouse_safe, b01)
    assert gdal.Open(b01).RasterXSize == 30


def test_area_mean_marks_a_block_with_any_zero_as_nan():
    rng = np.random.default_rng(3)
    dn = rng.integers(1, 10000, size=(12, 18), dtype=np.uint16)
    dn[7, 16] = 0
    mean = resample.area_mean(dn, 6)
    assert mean.shape == (2, 3)
    assert np.isnan(mean[1, 2]) and np.isfinite(mean).sum() == 5
    assert mean[0, 1] == pytest.approx(dn[0:6, 6:12].mean())


@pytest.mark.parametrize('dtype', [np.uint16, np.int16, np.float32])
def test_area_mean_is_exact_for_every_pixel_type(dtype):
    dn = np.full((6, 6), 65535 if dtype == np.uint16 else 30000, dtype=dtype)
    dn[0, 0] = 7
    expected = (float(dn[0, 1]) * 35 + 7) / 36
    assert resample.area_mean(dn, 6)[0, 0] == expected


def test_stack_equals_gdal_warp_average_across_jpeg2000_tile_edges(tmp_path):
    # 200 x 130 pixels at 60 m across the 10 m (1024 px), 20 m (640 px) and 60 m (192 px)
    # JP2 tiles' edges, with 7-row blocks: every band must be GDAL's own exact area mean.
    left, top = T32UPV_ORIGIN[0], T32UPV_ORIGIN[1] - 100 * 60
    extent = (left, top - 130 * 60, left + 200 * 60, top)
    result = stack_l1c(T32UPV, str(tmp_path / 'stack.tif'),
                       StackOptions(extent=extent, block_rows=7))
    stack, _ = read_stack(result.path)
    valid = np.isfinite(stack[0])
    assert stack.shape == (13, 130, 200) and 0.2 < valid.mean() < 0.9
    for index, band in enumerate(L1C_BANDS):
        source = band_file(T32UPV, band)
        jp2 = gdal.Open(source)
        tile_m = jp2.GetRasterBand(1).GetBlockSize()[1] * jp2.GetGeoTransform()[1]
        assert (100 * 60) // tile_m < (230 * 60) // tile_m, band  # a tile edge inside the crop
        warped = gdal.Warp('', source, format='MEM', outputBounds=(extent[0], extent[1],
                           extent[2], extent[3]), xRes=60, yRes=60, resampleAlg='average',
                           overviewLevel='NONE', outputType=gdal.GDT_Float64)
        expected = warped.ReadAsArray() / 10000.0  # baseline 02.05: no offset
        np.testing.assert_allclose(stack[index][valid], expected[valid], rtol=1e-6,
                                   err_msg=band)


def test_decode_level_1_averages_the_10_m_bands_20_m_level_and_keeps_the_others(
        tmp_path, t32upv_stack):
    result = stack_l1c(T32UPV, str(tmp_path / 'level1.tif'),
                       StackOptions(extent=T32UPV_CORNER, decode_level=1, block_rows=7))
    reduced, dataset = read_stack(result.path)
    exact, _ = read_stack(t32upv_stack.path)
    assert dataset.GetMetadataItem('RESAMPLING').startswith('approximate')
    valid = np.isfinite(exact[0])
    # At the swath edge the 20 m level blends data with no data: a few partly imaged pixels
    # (each beside an exact no-data pixel) get a value; no valid pixel is lost.
    added = np.isfinite(reduced[0]) & ~valid
    nodata = np.pad(~valid, 1)
    beside_nodata = nodata[:-2, 1:-1] | nodata[2:, 1:-1] | nodata[1:-1, :-2] | nodata[1:-1, 2:]
    assert np.isfinite(reduced[0][valid]).all() and 0 < added.sum() < 0.01 * valid.sum()
    assert beside_nodata[added].all()
    for index, band in enumerate(L1C_BANDS):
        if band not in ('B02', 'B03', 'B04', 'B08'):  # 20 m and 60 m pixels: not a power of 2
            np.testing.assert_array_equal(reduced[index][valid], exact[index][valid], band)
            continue
        jp2 = gdal.Open(band_file(T32UPV, band))
        level1 = jp2.GetRasterBand(1).GetOverview(0).ReadAsArray(0, 0, 480, 300)  # 20 m
        expected = level1.reshape(100, 3, 160, 3).mean(axis=(1, 3)) / 10000.0
        np.testing.assert_allclose(reduced[index][valid], expected[valid], rtol=1e-6,
                                   err_msg=band)
        assert not np.array_equal(reduced[index][valid], exact[index][valid])  # approximate
    with pytest.raises(errors.InvalidProductError, match='negative'):
        stack_l1c(T32UPV, str(tmp_path / 'x.tif'), StackOptions(decode_level=-1))

