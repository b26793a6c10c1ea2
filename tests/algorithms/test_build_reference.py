"""s2cloudcnn:buildreference on a real Betsiboka crop with hand-placed seeds, through Processing.

The seeds (tests/data/reference/betsiboka_crop_seeds.geojson) were drawn by eye on true-colour,
SWIR and B10 views of the crop's free rows (0-59; the rows below are reserved pixels).
"""

import json
import os

import numpy as np
import pytest
from conftest import data_path, qgis_process
from osgeo import gdal, ogr, osr
from qgis.core import QgsProcessingException

from algorithms.core.reference.classes import CLEAR_CLASSES, CLOUD_CLASSES, NOT_USED

STACK = data_path('detect', 'betsiboka_crop_toa13.tif')
SEEDS = data_path('reference', 'betsiboka_crop_seeds.geojson')
B10 = 11  # band number of B10 in the stack
FREE_ROWS = 60


def run_build(run_algorithm, tmp_path, seeds=SEEDS, **extra):
    parameters = {'INPUT': STACK, 'SEEDS': seeds, 'CLASS_FIELD': 'class',
                  'OUTPUT': str(tmp_path / 'reference.tif'), 'BOUNDARY_RING': 0,
                  'MIN_VOTE_SHARE': 0.5, 'CIRRUS_LIMIT': 0.0, 'TREES': 30, **extra}
    return run_algorithm('s2cloudcnn:buildreference', parameters)


def read(path, band=1):
    dataset = gdal.Open(path)  # held: a band read after its dataset is freed crashes
    return dataset.GetRasterBand(band).ReadAsArray()


def seed_raster():
    """The seed classes per pixel, burned by GDAL from the committed GeoJSON."""
    source = gdal.Open(STACK)
    target = gdal.GetDriverByName('MEM').Create('', source.RasterXSize, source.RasterYSize, 1,
                                                gdal.GDT_Byte)
    target.SetGeoTransform(source.GetGeoTransform())
    target.SetProjection(source.GetProjection())
    seeds = ogr.Open(SEEDS)
    gdal.RasterizeLayer(target, [1], seeds.GetLayer(), options=['ATTRIBUTE=class'])
    return target.ReadAsArray()


def write_seeds(path, features, epsg=None):
    """A GeoJSON of (WKT in the stack's CRS, class value) features, optionally reprojected."""
    stack_srs = osr.SpatialReference(wkt=gdal.Open(STACK).GetProjection())
    target = stack_srs
    if epsg:
        target = osr.SpatialReference()
        target.ImportFromEPSG(epsg)
    for srs in (stack_srs, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(stack_srs, target)
    source = ogr.GetDriverByName('GeoJSON').CreateDataSource(str(path))
    layer = source.CreateLayer('seeds', target, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn('class', ogr.OFTString))
    for wkt, value in features:
        feature = ogr.Feature(layer.GetLayerDefn())
        geometry = ogr.CreateGeometryFromWkt(wkt)
        geometry.Transform(transform)
        feature.SetGeometry(geometry)
        feature.SetField('class', str(value))
        layer.CreateFeature(feature)
    source = None
    return str(path)


def committed_features():
    source = ogr.Open(SEEDS)
    return [(f.GetGeometryRef().ExportToWkt(), f.GetField('class')) for f in source.GetLayer()]


def pixel_box(col0, row0, col1, row1):
    """WKT of a pixel rectangle of the stack, in its CRS."""
    x0, dx, _, y0, _, dy = gdal.Open(STACK).GetGeoTransform()
    xa, xb, ya, yb = x0 + col0 * dx, x0 + col1 * dx, y0 + row0 * dy, y0 + row1 * dy
    return f'POLYGON (({xa} {ya}, {xb} {ya}, {xb} {yb}, {xa} {yb}, {xa} {ya}))'


def test_reference_keeps_the_seed_classes(run_algorithm, tmp_path):
    result = run_build(run_algorithm, tmp_path, MARGIN=str(tmp_path / 'margin.tif'),
                       REPORT=str(tmp_path / 'report.html'))
    classes, seeds = read(result['OUTPUT']), seed_raster()
    assert set(np.unique(seeds)) == {0, 2, 3, 5}
    for code in (2, 3, 5):
        at_seeds = classes[seeds == code]
        assert np.mean(at_seeds == code) >= 0.95, code
    assert 0.9 <= result['OOB_ACCURACY'] <= 1.0
    margin = read(result['MARGIN'])
    assert np.nanmin(margin) >= 0 and np.nanmax(margin) <= 1
    with open(result['REPORT'], encoding='utf-8') as stream:
        report = stream.read()
    for text in ('opaque cloud', 'thin cloud', 'Out-of-bag accuracy', 'not used'):
        assert text in report
    assert os.path.exists(str(tmp_path / 'reference.qml'))


def test_boundary_ring_marks_exactly_the_pixels_next_to_the_other_side(run_algorithm,
                                                                      tmp_path):
    plain = read(run_build(run_algorithm, tmp_path / 'a')['OUTPUT'])
    ringed = read(run_build(run_algorithm, tmp_path / 'b', BOUNDARY_RING=1)['OUTPUT'])
    cloud, clear = np.isin(plain, CLOUD_CLASSES), np.isin(plain, CLEAR_CLASSES)
    expected = np.zeros(plain.shape, bool)
    rows, cols = plain.shape
    for r in range(rows):
        for c in range(cols):
            window = (slice(max(r - 1, 0), r + 2), slice(max(c - 1, 0), c + 2))
            expected[r, c] = ((cloud[r, c] and clear[window].any())
                              or (clear[r, c] and cloud[window].any()))
    assert expected.any()
    assert np.array_equal(ringed == NOT_USED, expected | (plain == NOT_USED))
    assert np.array_equal(ringed[~expected], plain[~expected])


def test_cirrus_rule_marks_clear_pixels_above_the_b10_limit(run_algorithm, tmp_path):
    plain = read(run_build(run_algorithm, tmp_path / 'a')['OUTPUT'])
    limit = 0.012
    ruled = read(run_build(run_algorithm, tmp_path / 'b', CIRRUS_LIMIT=limit)['OUTPUT'])
    b10 = read(STACK, B10)
    expected = np.isin(plain, CLEAR_CLASSES) & (b10 > limit)
    assert expected.any() and (np.isin(plain, CLEAR_CLASSES) & (b10 <= limit)).any()
    assert np.array_equal(ruled == NOT_USED, expected | (plain == NOT_USED))


def test_low_vote_share_becomes_not_used(run_algorithm, tmp_path):
    loose = read(run_build(run_algorithm, tmp_path / 'a')['OUTPUT'])
    strict = read(run_build(run_algorithm, tmp_path / 'b', MIN_VOTE_SHARE=0.95)['OUTPUT'])
    assert not (loose == NOT_USED).any() and (strict == NOT_USED).any()
    kept = strict != NOT_USED
    assert np.array_equal(strict[kept], loose[kept])


def test_class_names_and_another_crs_give_the_same_reference(run_algorithm, tmp_path):
    names = {'2': 'opaque cloud', '3': 'thin cloud', '5': 'land'}
    features = [(wkt, names[str(value)]) for wkt, value in committed_features()]
    moved = write_seeds(tmp_path / 'seeds_4326.geojson', features, epsg=4326)
    base = read(run_build(run_algorithm, tmp_path / 'a')['OUTPUT'])
    other = read(run_build(run_algorithm, tmp_path / 'b', seeds=moved)['OUTPUT'])
    assert np.mean(base == other) >= 0.99


@pytest.mark.parametrize('change, message', [
    (lambda f: f + [(pixel_box(40, 40, 48, 48), 'fog')], 'unknown seed class'),
    (lambda f: f + [(pixel_box(300, 300, 310, 310), 5)], 'outside the raster'),
    (lambda f: [x for x in f if str(x[1]) in '23'], 'at least one cloud class'),
    (lambda f: f + [(pixel_box(50, 2, 52, 4), 7)], 'too few seed pixels: snow 4'),
    (lambda f: f + [(pixel_box(62, 28, 66, 32), 5)], 'overlaps seeds of opaque cloud'),
])
def test_bad_seeds_say_what_is_wrong_and_write_nothing(run_algorithm, tmp_path, change,
                                                       message):
    seeds = write_seeds(tmp_path / 'seeds.geojson', change(committed_features()))
    with pytest.raises(QgsProcessingException, match=message):
        run_build(run_algorithm, tmp_path, seeds=seeds)
    assert sorted(os.listdir(tmp_path)) == ['seeds.geojson']


def test_missing_class_field_is_named(run_algorithm, tmp_path):
    with pytest.raises(QgsProcessingException, match="field 'kind'"):
        run_build(run_algorithm, tmp_path, CLASS_FIELD='kind')


def test_raster_and_product_together_are_refused(run_algorithm, tmp_path):
    with pytest.raises(QgsProcessingException, match='not both'):
        run_build(run_algorithm, tmp_path, PRODUCT=data_path(
            'l1c', 'S2A_MSIL1C_20240120T105341_N0510_R051_T31TCJ_20240120T125244.SAFE.zip'))


def test_missing_scikit_learn_disables_the_algorithm_with_the_installer_and_command(
        monkeypatch):
    from algorithms import build_reference
    from algorithms.core.dependencies import MENU_PATH, PackageStatus

    assert build_reference.BuildReferenceAlgorithm().canExecute() == (True, '')
    monkeypatch.setattr(build_reference, 'scikit_learn_status', lambda: PackageStatus(False))
    ok, message = build_reference.BuildReferenceAlgorithm().canExecute()
    assert not ok and MENU_PATH in message and 'scikit-learn==1.6.1' in message


def test_qgis_process_builds_the_reference(tmp_path):
    output = tmp_path / 'reference.tif'
    result = qgis_process('run', 's2cloudcnn:buildreference', '--json', f'--INPUT={STACK}',
                          f'--SEEDS={SEEDS}', '--TREES=20',
                          f'--OUTPUT={output}')
    outputs = json.loads(result.stdout)['results']
    assert 0.9 <= outputs['OOB_ACCURACY'] <= 1.0
    classes, seeds = read(str(output)), seed_raster()
    assert np.mean(classes[seeds == 2] == 2) >= 0.95
    assert set(np.unique(classes)) <= {1, 2, 3, 4, 5, 6, 7}
