"""s2cloudcnn:stackl1c through processing.run and qgis_process, good and bad products."""

import glob
import json
import os
import zipfile

import numpy as np
import pytest
from conftest import qgis_process
from l1c_fixtures import T32UPV, T32UPV_CORNER, TOULOUSE, band_file, extract, read_stack, rezip

ALG = 's2cloudcnn:stackl1c'


def _run(run_algorithm, output, feedback=None, **parameters):
    return run_algorithm(ALG, {'OUTPUT': str(output), **parameters}, feedback=feedback)


def test_zip_with_extent_in_another_crs_matches_the_core_stack(run_algorithm, tmp_path):
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsProject,
        QgsRectangle,
    )

    from algorithms.core.sentinel2.stack import StackOptions, stack_l1c

    # The corner crop, expressed in WGS 84 (its bounding box there is a bit larger).
    utm, wgs84 = (QgsCoordinateReferenceSystem(f'EPSG:{c}') for c in (32632, 4326))
    box = QgsCoordinateTransform(utm, wgs84, QgsProject.instance()).transformBoundingBox(
        QgsRectangle(*T32UPV_CORNER))
    extent = f'{box.xMinimum()},{box.xMaximum()},{box.yMinimum()},{box.yMaximum()} [EPSG:4326]'
    result = _run(run_algorithm, tmp_path / 'alg.tif', INPUT=T32UPV, EXTENT=extent)
    stack, dataset = read_stack(result['OUTPUT'])
    gt = dataset.GetGeoTransform()
    assert (gt[0] - 600000) % 60 == 0 and (gt[3] - 5500020) % 60 == 0
    assert gt[0] <= T32UPV_CORNER[0] and gt[3] >= T32UPV_CORNER[3]
    core = stack_l1c(T32UPV, str(tmp_path / 'core.tif'), StackOptions(extent=T32UPV_CORNER))
    col, row = round((600000 - gt[0]) / 60), round((gt[3] - 5500020) / 60)
    np.testing.assert_array_equal(stack[:, row:row + 100, col:col + 160], read_stack(core.path)[0])
    assert 0 < result['VALID_FRACTION'] < 1


def test_band_files_list_and_chosen_zone(run_algorithm, tmp_path):
    safe = extract(TOULOUSE, tmp_path)
    files = sorted(glob.glob(os.path.join(os.path.dirname(band_file(safe, 'B01')), '*_B*.jp2')))
    result = _run(run_algorithm, tmp_path / 'list.tif', BAND_FILES=files, CRS='EPSG:32631')
    stack, dataset = read_stack(result['OUTPUT'])
    assert stack.shape == (13, 6, 6) and result['VALID_FRACTION'] == pytest.approx(16 / 36)
    assert dataset.GetMetadataItem('PROCESSING_BASELINE') == '05.10'


@pytest.mark.parametrize('kind', ['SAFE folder', 'MTD_MSIL1C.xml', 'band-files folder'])
def test_every_unzipped_input_kind_gives_the_zip_stack(run_algorithm, tmp_path, kind):
    safe = extract(TOULOUSE, tmp_path)
    source = {'SAFE folder': safe, 'MTD_MSIL1C.xml': os.path.join(safe, 'MTD_MSIL1C.xml'),
              'band-files folder': os.path.dirname(band_file(safe, 'B01'))}[kind]
    result = _run(run_algorithm, tmp_path / 'stack.tif', INPUT=source)
    from_zip = _run(run_algorithm, tmp_path / 'zip.tif', INPUT=TOULOUSE)
    np.testing.assert_array_equal(read_stack(result['OUTPUT'])[0],
                                  read_stack(from_zip['OUTPUT'])[0])


def _l2a(tmp_path):
    return rezip(TOULOUSE, tmp_path / 'S2A_MSIL2A_x.SAFE.zip', drop='_B10.jp2',
                 rename={'MTD_MSIL1C.xml': 'MTD_MSIL2A.xml'})


def _missing_band(tmp_path):
    return rezip(TOULOUSE, tmp_path / 'no_b07.SAFE.zip', drop='_B07.jp2')


def _corrupt_zip(tmp_path):
    path = tmp_path / 'truncated.SAFE.zip'
    with open(TOULOUSE, 'rb') as product:
        path.write_bytes(product.read()[:50000])
    return str(path)


def _not_sentinel2(tmp_path):
    path = tmp_path / 'holiday.zip'
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('photos/readme.xml', '<a/>')
    return str(path)


def _empty_folder(tmp_path):
    (tmp_path / 'empty').mkdir()
    return str(tmp_path / 'empty')


@pytest.mark.parametrize('make_input, parameters, message', [
    (_l2a, {}, 'Level-2A.*needs Level-1C top-of-atmosphere'),
    (_missing_band, {}, 'lacks band file.*B07'),
    (_corrupt_zip, {}, 'not a readable zip'),
    (_not_sentinel2, {}, 'holds no Sentinel-2 product metadata'),
    (_empty_folder, {}, 'holds no Sentinel-2 band files'),
    (lambda _t: T32UPV, {'EXTENT': '700000,709800,5400000,5409800 [EPSG:32632]'},
     'no valid pixel.*choose an extent'),
    (lambda _t: T32UPV, {'CRS': 'EPSG:32631'}, 'no granule in EPSG:32631.*EPSG:32632'),
])
def test_bad_input_is_a_processing_error_that_says_what_to_do(run_algorithm, tmp_path,
                                                            make_input, parameters, message):
    from qgis.core import QgsProcessingException

    out = tmp_path / 'out' / 'stack.tif'
    with pytest.raises(QgsProcessingException, match=message):
        _run(run_algorithm, out, INPUT=make_input(tmp_path), **parameters)
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_fast_decode_is_the_core_decode_level_1(run_algorithm, tmp_path):
    from algorithms.core.sentinel2.stack import StackOptions, stack_l1c

    result = _run(run_algorithm, tmp_path / 'fast.tif', INPUT=T32UPV, FAST_DECODE=True,
                  EXTENT='600000,609600,5494020,5500020 [EPSG:32632]')
    core = stack_l1c(T32UPV, str(tmp_path / 'core.tif'),
                     StackOptions(extent=T32UPV_CORNER, decode_level=1))
    stack, dataset = read_stack(result['OUTPUT'])
    np.testing.assert_array_equal(stack, read_stack(core.path)[0])
    assert dataset.GetMetadataItem('RESAMPLING').startswith('approximate')


def test_coarser_pixels_and_cancel(run_algorithm, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    result = _run(run_algorithm, tmp_path / 's120.tif', INPUT=T32UPV, RESOLUTION=120,
                  EXTENT='600000,609600,5494020,5500020 [EPSG:32632]')
    stack, dataset = read_stack(result['OUTPUT'])
    assert stack.shape == (13, 50, 80) and dataset.GetGeoTransform()[1] == 120
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    out = tmp_path / 'cancelled' / 'x.tif'
    with pytest.raises(QgsProcessingException, match='cancelled'):
        _run(run_algorithm, out, feedback=feedback, INPUT=TOULOUSE)
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_a_product_or_band_files_is_required(run_algorithm, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match='either a Sentinel-2 L1C product'):
        _run(run_algorithm, tmp_path / 'x.tif')


def test_qgis_process_runs_the_readme_example(tmp_path):
    out = tmp_path / 'toulouse.tif'
    result = qgis_process('run', ALG, '--json', f'--INPUT={TOULOUSE}', f'--OUTPUT={out}')
    outputs = json.loads(result.stdout[result.stdout.index('{'):])['results']
    assert outputs['OUTPUT'] == str(out)
    assert outputs['VALID_FRACTION'] == pytest.approx(16 / 36)
    assert read_stack(out)[0].shape == (13, 6, 6)


def test_only_geotiff_is_offered_and_other_extensions_are_refused(provider, run_algorithm,
                                                                  tmp_path):
    from qgis.core import QgsProcessingException

    assert provider.supportedOutputRasterLayerExtensions() == ['tif', 'tiff']
    output = provider.algorithm('stackl1c').parameterDefinition('OUTPUT')
    assert 'tif' in output.createFileFilter() and '.img' not in output.createFileFilter()
    with pytest.raises(QgsProcessingException, match='GeoTIFF only.*instead of .img'):
        run_algorithm('s2cloudcnn:stackl1c', {'INPUT': T32UPV, 'OUTPUT': str(tmp_path / 's.img')})
    assert not (tmp_path / 's.img').exists()
