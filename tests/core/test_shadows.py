"""Cloud shadows: angles of the real tile metadata, a synthetic scene, the real T32UPV cumulus."""

import math
import re
import zipfile

import numpy as np
import pytest
from detect_helpers import SHIPPED_MODEL
from l1c_fixtures import PDMC, T32UPV, T32UPV_CUMULUS
from osgeo import gdal, osr

from algorithms.core import errors
from algorithms.core.detection.detect import DetectOptions, detect_clouds
from algorithms.core.sentinel2.angles import SunView, product_angles, read_tile_angles
from algorithms.core.sentinel2.product import open_product
from algorithms.core.shadows import mask as shadow_mask
from algorithms.core.shadows.potential import flood_fill, potential_shadow
from algorithms.core.shadows.projection import match_shadows, shadow_shift


def tile_xml(product_zip):
    """(GDAL path, text) of the one tile metadata file in a zipped product."""
    with zipfile.ZipFile(product_zip) as archive:
        name = next(n for n in archive.namelist() if not n.startswith('__MACOSX') and re.search(
            r'GRANULE/[^/]+/(MTD_TL|S2A_OPER_(MTD|MSI)_L1C_TL_[^/]*)\.xml$', n))
        return f'/vsizip/{product_zip}/{name}', archive.read(name).decode()


def first_values(text, start_tag):
    """The first <VALUES> row after `start_tag` in the XML text, as floats."""
    block = text[text.index(start_tag):]
    return [float(v) for v in re.search(r'<VALUES>([^<]*)</VALUES>', block).group(1).split()]


@pytest.mark.parametrize('product', [T32UPV, PDMC], ids=['compact', 'pdmc'])
def test_angles_read_from_the_tile_metadata_are_the_files_values(product):
    path, text = tile_xml(product)
    tile = read_tile_angles(path)
    ulx = float(re.search(r'<ULX>([\d.]+)</ULX>', text).group(1))
    uly = float(re.search(r'<ULY>([\d.]+)</ULY>', text).group(1))
    sun_zenith = first_values(text, '<Sun_Angles_Grid>')
    sun_azimuth = first_values(text[text.index('<Sun_Angles_Grid>'):], '<Azimuth>')
    for col in (0, 7, 22):  # on a node the interpolation must give the file's value
        at_node = tile.at(ulx + 5000 * col, uly)
        assert at_node.sun_zenith == pytest.approx(sun_zenith[col], abs=1e-6)
        assert at_node.sun_azimuth == pytest.approx(sun_azimuth[col], abs=1e-6)
    mean = re.search(r'<Mean_Sun_Angle>\s*<ZENITH_ANGLE[^>]*>([\d.]+)<.*?<AZIMUTH_ANGLE[^>]*>'
                     r'([\d.]+)<', text, re.S)
    assert tile.mean_sun == (float(mean.group(1)), float(mean.group(2)))
    b8a = re.search(r'<Mean_Viewing_Incidence_Angle bandId="8">\s*<ZENITH_ANGLE[^>]*>([\d.]+)<'
                    r'.*?<AZIMUTH_ANGLE[^>]*>([\d.]+)<', text, re.S)
    assert tile.mean_view['B8A'] == (float(b8a.group(1)), float(b8a.group(2)))
    assert tile.epsg == 32632 and tile.origin == (ulx, uly)


def test_view_angles_are_each_bands_where_one_detector_sees_the_node():
    path, text = tile_xml(T32UPV)
    tile = read_tile_angles(path)
    ulx, uly = tile.origin
    seen = {}
    for match in re.finditer(r'<Viewing_Incidence_Angles_Grids bandId="(\d+)" detectorId="\d+">'
                             r'(.*?)</Viewing_Incidence_Angles_Grids>', text, re.S):
        zenith = first_values(match.group(2), '<Zenith>')[0]
        azimuth = first_values(match.group(2), '<Azimuth>')[0]
        if not math.isnan(zenith):
            seen.setdefault(int(match.group(1)), []).append((zenith, azimuth))
    band_ids = [b for b, values in seen.items() if len(values) == 1]
    assert len(band_ids) >= 2  # the strip's corner node is seen by one detector in most bands
    views = {b: tile.at(ulx, uly, bands=(('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08',
                                          'B8A', 'B09', 'B10', 'B11', 'B12')[b],))
             for b in band_ids}
    for band_id, view in views.items():
        assert (view.view_zenith, view.view_azimuth) == pytest.approx(seen[band_id][0], abs=1e-6)
    assert len({round(v.view_azimuth, 3) for v in views.values()}) > 1  # bands differ


def test_band_files_without_tile_metadata_have_no_angles():
    product = open_product(T32UPV)
    product.tile_metadata.clear()
    with pytest.raises(errors.InvalidProductError, match='sun and view angles'):
        product_angles(product, 32632)


def test_flood_fill_raises_a_basin_to_its_spill_level():
    image = np.full((7, 7), 0.30, np.float32)
    image[2:5, 2:5] = 0.10  # a basin walled at 0.30 ...
    image[3, 0:2] = 0.20  # ... with a channel to the border at 0.20
    image[3, 2] = 0.20
    filled = flood_fill(image)
    assert filled[3, 3] == pytest.approx(0.20, abs=0.005)
    assert (filled >= image - 1e-6).all()
    assert filled[0, 0] == pytest.approx(0.30)


def synthetic_scene(sun_view, height, pixel=60.0, size=160):
    """Textured ground, a 9 x 12 cloud and its shadow placed by hand-written trigonometry."""
    rng = np.random.default_rng(7)
    nir = 0.30 + 0.02 * rng.standard_normal((size, size))
    swir = 0.20 + 0.02 * rng.standard_normal((size, size))
    tan_view, tan_sun = (math.tan(math.radians(a)) for a in (sun_view.view_zenith,
                                                              sun_view.sun_zenith))
    east = height * (tan_view * math.sin(math.radians(sun_view.view_azimuth))
                     - tan_sun * math.sin(math.radians(sun_view.sun_azimuth)))
    north = height * (tan_view * math.cos(math.radians(sun_view.view_azimuth))
                      - tan_sun * math.cos(math.radians(sun_view.sun_azimuth)))
    rows, cols = -north / pixel, east / pixel  # image rows run southwards
    cloud = np.zeros((size, size), bool)
    cloud[100:109, 90:102] = True
    shadow = np.roll(np.roll(cloud, round(rows), axis=0), round(cols), axis=1) & ~cloud
    nir[shadow] *= 0.4
    swir[shadow] *= 0.4
    nir[cloud], swir[cloud] = 0.6, 0.5
    return nir, swir, cloud, shadow, (rows, cols)


@pytest.mark.parametrize('sun_view', [SunView(40.0, 150.0, 8.0, 290.0),
                                      SunView(65.0, 200.0, 11.0, 100.0)])
def test_shadow_lands_where_the_geometry_says(sun_view):
    height = 2500.0
    nir, swir, cloud, truth, (rows, cols) = synthetic_scene(sun_view, height)
    valid = np.ones(cloud.shape, bool)
    potential = potential_shadow(nir, swir, valid)
    assert potential[truth].all()
    geotransform = (500000.0, 60.0, 0.0, 5000000.0, 0.0, -60.0)
    match = match_shadows(cloud, valid, potential, geotransform, lambda x, y: sun_view)
    assert match.objects == 1 and len(match.heights_m) == 1
    found_rows, found_cols = np.nonzero(match.shadow)
    cloud_rows, cloud_cols = np.nonzero(cloud)
    assert found_rows.mean() - cloud_rows.mean() == pytest.approx(rows, abs=1.0)
    assert found_cols.mean() - cloud_cols.mean() == pytest.approx(cols, abs=1.0)
    metres_per_pixel = 60.0 / max(abs(v) for v in shadow_shift(sun_view, 1.0))
    assert match.heights_m[0] == pytest.approx(height, abs=metres_per_pixel)
    assert (match.shadow == truth).mean() > 0.99


def test_no_shadow_without_a_dark_match():
    sun_view = SunView(40.0, 150.0, 8.0, 290.0)
    nir, swir, cloud, _truth, _shift = synthetic_scene(sun_view, 2500.0)
    nir[~cloud], swir[~cloud] = 0.30, 0.20  # flat ground: nothing is darker than around it
    valid = np.ones(cloud.shape, bool)
    potential = potential_shadow(nir, swir, valid)
    match = match_shadows(cloud, valid, potential, (0, 60, 0, 0, 0, -60), lambda x, y: sun_view)
    assert not potential.any() and not match.shadow.any()


def test_compose_codes_and_dilation():
    cloud, shadow = np.zeros((9, 9), bool), np.zeros((9, 9), bool)
    cloud[4, 4], shadow[4, 6] = True, True
    valid = np.ones((9, 9), bool)
    valid[0] = False
    codes = shadow_mask.compose(cloud, shadow, valid)
    assert (codes == 1).sum() == 1 and (codes == 2).sum() == 1 and (codes[0] == 255).all()
    grown = shadow_mask.compose(cloud, shadow, valid, dilation=1)
    assert (grown == 1).sum() == 9  # a 3 x 3 square around the cloud
    assert (grown == 2).sum() == 9 - 3  # the shadow's square, less what the cloud's took
    assert grown[4, 5] == 1  # cloud wins where both grow


@pytest.fixture(scope='module')
def t32upv_cloud_and_shadow(tmp_path_factory):
    folder = tmp_path_factory.mktemp('t32upv')
    options = DetectOptions(extent=T32UPV_CUMULUS, cloud_shadow_path=str(folder / 'cs.tif'))
    result = detect_clouds(T32UPV, str(folder / 'mask.tif'), str(SHIPPED_MODEL), options)
    return result, folder


def test_cumulus_of_the_t32upv_strip_cast_shadows_away_from_the_sun(t32upv_cloud_and_shadow):
    result, folder = t32upv_cloud_and_shadow
    dataset = gdal.Open(str(folder / 'cs.tif'))
    codes = dataset.ReadAsArray()
    mask = gdal.Open(str(folder / 'mask.tif')).ReadAsArray()
    assert set(np.unique(codes)) <= {0, 1, 2, 255}
    assert ((codes == 1) == (mask == 1)).all() and ((codes == 255) == (mask == 255)).all()
    assert (codes == 2).sum() >= 50  # the cumulus' shadows
    assert result.cloud_shadow.objects_with_shadow >= 3
    # Each shadow pixel has a cloud on its sunward side: towards the sun, corrected for the
    # view's parallax, from the tile's mean angles (trigonometry written out here).
    tile = read_tile_angles(tile_xml(T32UPV)[0])
    sun_zenith, sun_azimuth = (math.radians(a) for a in tile.mean_sun)
    view_zenith, view_azimuth = (math.radians(a) for a in tile.mean_view['B8A'])
    east = math.tan(view_zenith) * math.sin(view_azimuth) - math.tan(sun_zenith) * math.sin(
        sun_azimuth)
    north = math.tan(view_zenith) * math.cos(view_azimuth) - math.tan(sun_zenith) * math.cos(
        sun_azimuth)
    to_cloud = math.atan2(-east, -north)  # azimuth from a shadow back to its cloud
    rows, cols = np.nonzero(codes == 2)
    cloud_rows, cloud_cols = np.nonzero(codes == 1)
    azimuths = np.arctan2(cloud_cols[None, :] - cols[:, None], rows[:, None] - cloud_rows[None, :])
    difference = np.abs((azimuths - to_cloud + math.pi) % (2 * math.pi) - math.pi)
    assert (difference < math.radians(30)).any(axis=1).mean() > 0.95
    assert dataset.GetGeoTransform() == gdal.Open(str(folder / 'mask.tif')).GetGeoTransform()


def test_t32upv_shadows_are_dark_in_nir_and_swir(t32upv_cloud_and_shadow):
    result, folder = t32upv_cloud_and_shadow
    codes = gdal.Open(str(folder / 'cs.tif')).ReadAsArray()
    product = open_product(T32UPV)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    stack = gdal.Warp('', [p for p in product.band_files[32632]['B8A']], format='MEM',
                      outputBounds=T32UPV_CUMULUS, xRes=60, yRes=60, resampleAlg='average')
    nir = stack.ReadAsArray().astype(float)
    assert np.median(nir[codes == 2]) < 0.8 * np.median(nir[codes == 0])


def test_a_plain_raster_has_no_angles_for_shadows(tmp_path):
    from detect_helpers import CROP

    options = DetectOptions(cloud_shadow_path=str(tmp_path / 'cs.tif'))
    with pytest.raises(errors.InvalidRasterError, match='angles'):
        detect_clouds(str(CROP), str(tmp_path / 'mask.tif'), str(SHIPPED_MODEL), options)
    assert not list(tmp_path.iterdir())


def test_cancel_while_casting_shadows_leaves_no_output(tmp_path):
    from algorithms.core.run import RunContext

    reached = []
    context = RunContext(progress=reached.append, is_canceled=lambda: bool(reached) and
                         reached[-1] >= 90)  # the shadow stage: after detection
    options = DetectOptions(extent=T32UPV_CUMULUS, cloud_shadow_path=str(tmp_path / 'cs.tif'),
                            probability_path=str(tmp_path / 'p.tif'))
    with pytest.raises(errors.CancelledError):
        detect_clouds(T32UPV, str(tmp_path / 'mask.tif'), str(SHIPPED_MODEL), options, context)
    assert max(reached) >= 90  # detection had finished and written its mask
    assert not list(tmp_path.iterdir())  # the cloud mask and probability went too
