"""Input checks (issue 12): scaling judged from the data, what evaluation could not score."""

import pytest
from detect_helpers import CROP, band_names, read, read_all, write_like
from evaluation_helpers import LABEL, Recording, write
from osgeo import gdal
from test_reliability import DETECT, EVALUATE, KERNELS, detect_parameters, inputs, refused

APPLY = 's2cloudcnn:applykernels'
__all__ = ['inputs']  # the fixture


# --- scaling ---------------------------------------------------------------------------------

def scaled_copy(tmp_path, name, factor, data_type=gdal.GDT_Float32):
    image = read_all(CROP) * factor
    return str(write_like(tmp_path / name, CROP, image, band_names(CROP), data_type=data_type,
                          nodata=None if data_type != gdal.GDT_Float32 else float('nan')))


def test_float_dn_is_read_as_reflectance_times_10000_with_a_warning(run_algorithm, inputs,
                                                                     tmp_path):
    reference = run_algorithm(DETECT, detect_parameters(inputs))
    reference_mask = read(reference['OUTPUT'])
    feedback = Recording()
    result = run_algorithm(DETECT, detect_parameters(
        inputs, INPUT=scaled_copy(tmp_path, 'dn.tif', 10000),
        OUTPUT=str(tmp_path / 'out' / 'dn_mask.tif')), feedback=feedback)
    assert any('reflectance x 10000' in line for line in feedback.lines), feedback.lines
    assert (read(result['OUTPUT']) != reference_mask).mean() < 0.001


@pytest.mark.parametrize('name, factor, data_type', [
    ('percent.tif', 100, gdal.GDT_Float32),
    ('negative.tif', -1, gdal.GDT_Float32),
    ('uint16_reflectance.tif', 1, gdal.GDT_UInt16)])
def test_implausible_scaling_is_refused(run_algorithm, inputs, tmp_path, name, factor, data_type):
    path = scaled_copy(tmp_path, name, factor, data_type)
    refused(run_algorithm, DETECT, detect_parameters(inputs, INPUT=path),
            f'{name}.*reflectance', tmp_path / 'out')


def test_apply_kernels_reads_float_dn_with_a_warning(run_algorithm, tmp_path):
    kernels = tmp_path / 'k.json'
    run_algorithm(KERNELS, {'OUTPUT': str(kernels)})
    feedback = Recording()
    run_algorithm(APPLY, {'INPUT': scaled_copy(tmp_path, 'dn.tif', 10000), 'KERNELS': str(kernels),
                          'OUTPUT': str(tmp_path / 'maps.tif')}, feedback=feedback)
    assert any('reflectance x 10000' in line for line in feedback.lines), feedback.lines


# --- evaluation ------------------------------------------------------------------------------

def test_ground_truth_values_outside_the_preset_are_counted_in_log_and_report(
        run_algorithm, tmp_path):
    label = read(LABEL)
    truth = label.copy()
    truth[:, 256:] += 4  # ALCD-like codes 4 and 5 in the right half
    truth_path = write(tmp_path / 'truth.tif', truth)
    feedback = Recording()
    result = run_algorithm(EVALUATE, {'PREDICTION': LABEL, 'GROUND_TRUTH': truth_path,
                                      'REPORT': str(tmp_path / 'r.html')}, feedback=feedback)
    outside = int((truth >= 4).sum())
    warning = [line for line in feedback.lines if 'outside' in line]
    assert warning and f'{outside:,}' in warning[0] and '50.0 %' in warning[0], feedback.lines
    assert f'{int((truth == 4).sum()):,}' in warning[0]
    assert f'{outside:,}' in (tmp_path / 'r.html').read_text()
    assert result['TP'] + result['TN'] == label.size - outside


def test_ground_truth_without_crs_on_the_same_grid_is_compared(run_algorithm, tmp_path):
    truth = write(tmp_path / 'no_crs.tif', read(LABEL), wkt='')
    feedback = Recording()
    result = run_algorithm(EVALUATE, {'PREDICTION': LABEL, 'GROUND_TRUTH': truth},
                           feedback=feedback)
    assert result['FSCORE'] == pytest.approx(1.0)
    assert any('no CRS' in line for line in feedback.lines), feedback.lines
