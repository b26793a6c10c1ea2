"""s2cloudcnn:evaluatemask on real human cloud labels (OnCloudN chips), through Processing."""

import json
import os
import re

import numpy as np
import pytest
from conftest import qgis_process
from evaluation_helpers import (
    LABEL,
    TRUTHS,
    Recording,
    expected_counts,
    read,
    shifted_and_perturbed,
    text,
    write,
)
from osgeo import gdal
from qgis.core import QgsProcessingException


def run_evaluate(run_algorithm, tmp_path, prediction, truth, **extra):
    feedback = extra.pop('feedback', None) or Recording()
    parameters = {'PREDICTION': prediction, 'GROUND_TRUTH': truth,
                  'ERROR_MAP': str(tmp_path / 'errors.tif'),
                  'REPORT': str(tmp_path / 'report.html'), **extra}
    result = run_algorithm('s2cloudcnn:evaluatemask', parameters, feedback=feedback)
    return result, feedback


def test_label_against_itself_is_perfect(run_algorithm, tmp_path):
    label = read(LABEL)
    result, _ = run_evaluate(run_algorithm, tmp_path, LABEL, LABEL)
    for name in ('ACCURACY', 'RECALL', 'PRECISION', 'FSCORE', 'IOU', 'KAPPA'):
        assert result[name] == pytest.approx(1.0), name
    assert (result['TP'], result['TN'], result['FP'], result['FN']) == (
        int(np.sum(label == 1)), int(np.sum(label == 0)), 0, 0)
    errors = read(result['ERROR_MAP'])
    np.testing.assert_array_equal(errors, label)  # TN 0 and TP 1: the label itself
    assert os.path.isfile(str(tmp_path / 'errors.qml'))
    assert not [name for name in os.listdir(tmp_path) if 'partial' in name]


def test_shifted_perturbed_prediction_gives_hand_computed_counts(run_algorithm, tmp_path):
    label = read(LABEL)
    prediction = shifted_and_perturbed(label)
    path = write(tmp_path / 'prediction.tif', prediction)
    result, _ = run_evaluate(run_algorithm, tmp_path, path, LABEL)
    expected = expected_counts(prediction == 1, label == 1, prediction != 255)
    assert {k: result[k] for k in expected} == expected
    assert expected['FP'] > 1000 and expected['FN'] > 1000  # both kinds of error happen
    tp, tn, fp, fn = (expected[k] for k in ('TP', 'TN', 'FP', 'FN'))
    assert result['RECALL'] == pytest.approx(tp / (tp + fn))
    assert result['PRECISION'] == pytest.approx(tp / (tp + fp))
    assert result['ACCURACY'] == pytest.approx((tp + tn) / (tp + tn + fp + fn))
    errors = read(result['ERROR_MAP'])
    assert np.all(errors[:, :7] == 255)  # not evaluated where the prediction has no data
    assert int(np.sum(errors == 3)) == fp and int(np.sum(errors == 2)) == fn
    html = text(result['REPORT'])
    assert f'{fp:,}' in html and f'{result["FSCORE"]:.4f}' in html


def test_ground_truth_at_20_m_is_regridded_and_said_so(run_algorithm, tmp_path):
    label = read(LABEL)
    x0, _, _, y0, _, _ = gdal.Open(LABEL).GetGeoTransform()
    coarse = label[::2, ::2]
    truth = write(tmp_path / 'truth_20m.tif', coarse, geotransform=(x0, 20, 0, y0, 0, -20))
    result, feedback = run_evaluate(run_algorithm, tmp_path, LABEL, truth)
    assert any('resampled with nearest neighbour' in line and '20 metre' in line
               for line in feedback.lines), feedback.lines
    # Each 10 m pixel centre lies in the 20 m pixel (row // 2, col // 2).
    regridded = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)
    expected = expected_counts(label == 1, regridded == 1, np.ones(label.shape, bool))
    assert {k: result[k] for k in expected} == expected
    assert 0.95 < result['FSCORE'] < 1.0
    assert 'another grid' in text(result['REPORT'])


def test_ground_truth_in_another_crs_is_reprojected(run_algorithm, tmp_path):
    truth = str(tmp_path / 'truth_4326.tif')
    gdal.Warp(truth, LABEL, dstSRS='EPSG:4326', resampleAlg='near')
    result, feedback = run_evaluate(run_algorithm, tmp_path, LABEL, truth)
    assert any('degree' in line and 'nearest' in line for line in feedback.lines)
    assert result['ACCURACY'] > 0.99 and result['KAPPA'] > 0.98
    assert result['TP'] + result['TN'] + result['FP'] + result['FN'] > 0.99 * label_pixels()


def label_pixels():
    return int(np.prod(read(LABEL).shape))


def alcd_truth(label):
    """Ground truth with ALCD codes: cloud split in low (2) / high (3), clear in 4-7, and 0/1."""
    truth = np.where(label == 1, 2, 5).astype(np.uint8)
    truth[:, 256:][label[:, 256:] == 1] = 3
    truth[:, 256:][label[:, 256:] == 0] = 7  # 'snow' on the right half
    truth[:40] = 0   # no data
    truth[40:60] = 1  # not used
    return truth


def test_alcd_ground_truth_and_errors_per_class(run_algorithm, tmp_path):
    label = read(LABEL)
    truth = alcd_truth(label)
    prediction = label.copy()
    prediction[truth == 7] = 1  # every snow pixel taken for cloud
    result, _ = run_evaluate(run_algorithm, tmp_path, write(tmp_path / 'p.tif', prediction),
                             write(tmp_path / 'alcd.tif', truth, nodata=None),
                             GROUND_TRUTH_CLASSES=1)
    expected = expected_counts(prediction == 1, np.isin(truth, (2, 3)), truth >= 2)
    assert {k: result[k] for k in expected} == expected
    assert result['FP'] == int(np.sum(truth == 7))
    html = text(result['REPORT'])
    snow_row = re.search(r'<tr><td class=text>7</td><td class=text>snow</td>.*?</tr>', html)
    assert snow_row and '100.00 %' in snow_row.group(0)


def test_sen2cor_scl_prediction_against_label(run_algorithm, tmp_path):
    label = read(LABEL)
    scl = np.where(label == 1, 9, 4).astype(np.uint8)
    scl.flat[np.flatnonzero(label == 1)[::3]] = 10
    scl[:, :50] = np.where(label[:, :50] == 1, 8, 11)  # snow at the edge stays clear
    scl[:, 500:] = 3  # cloud shadow: clear, so the cloud there is missed
    scl[:20] = 0  # no data
    result, _ = run_evaluate(run_algorithm, tmp_path, write(tmp_path / 'scl.tif', scl),
                             LABEL, PREDICTION_CLASSES=2)
    expected = expected_counts(np.isin(scl, (8, 9, 10)), label == 1, scl != 0)
    assert {k: result[k] for k in expected} == expected
    assert result['FN'] == int(np.sum(label[20:, 500:] == 1))


def test_fmask_prediction_and_probability_threshold(run_algorithm, tmp_path):
    label = read(LABEL)
    fmask = np.where(label == 1, 4, 0).astype(np.uint8)
    fmask.flat[np.flatnonzero(label == 0)[::2]] = 3
    fmask[:, :10] = 255
    fmask_path = write(tmp_path / 'fmask.tif', fmask, nodata=None)
    result, _ = run_evaluate(run_algorithm, tmp_path, fmask_path, LABEL, PREDICTION_CLASSES=3)
    assert (result['FP'], result['FN'], result['TP'] + result['TN']) == (
        0, 0, int(np.sum(fmask != 255)))
    probability = (0.1 + 0.8 * label).astype(np.float32)
    path = write(tmp_path / 'probability.tif', probability, nodata=None)
    perfect, _ = run_evaluate(run_algorithm, tmp_path, path, LABEL, PREDICTION_CLASSES=4)
    assert perfect['FSCORE'] == pytest.approx(1.0)
    nothing, _ = run_evaluate(run_algorithm, tmp_path, path, LABEL, PREDICTION_CLASSES=4,
                              PREDICTION_THRESHOLD=0.95)
    assert (nothing['TP'], nothing['RECALL'], nothing['PRECISION']) == (0, 0.0, 1.0)


@pytest.mark.parametrize('extra, message', [
    ({'GROUND_TRUTH': os.path.join(TRUTHS, 'kgqd.tif')}, 'does not overlap'),
    ({'PREDICTION_CLASSES': 5}, 'no value is mapped to cloud'),
    ({'GROUND_TRUTH_CLASSES': 5, 'GROUND_TRUTH_CLOUD_VALUES': '1',
      'GROUND_TRUTH_CLEAR_VALUES': '0-1'}, r'listed as both cloud and clear'),
    ({'GROUND_TRUTH_CLASSES': 1}, 'no pixel is valid in both'),  # 0/1 are ignored in ALCD
    ({'ERROR_MAP': LABEL}, 'is also an input'),
])
def test_bad_input_gets_a_helpful_message(run_algorithm, tmp_path, extra, message):
    extra = dict(extra)
    with pytest.raises(QgsProcessingException, match=message):
        run_evaluate(run_algorithm, tmp_path, LABEL, extra.pop('GROUND_TRUTH', LABEL), **extra)
    assert not os.path.exists(tmp_path / 'errors.tif')


def test_ground_truth_without_crs_on_another_grid_is_refused(run_algorithm, tmp_path):
    truth = write(tmp_path / 'nocrs.tif', read(LABEL)[::2, ::2],
                  geotransform=(0, 1, 0, 0, 0, -1), wkt='')
    with pytest.raises(QgsProcessingException, match='has no CRS'):
        run_evaluate(run_algorithm, tmp_path, LABEL, truth)


def test_cancel_leaves_no_error_map(run_algorithm, tmp_path):
    big = np.tile(read(LABEL), (2, 2))  # four blocks, so there is a block after the cancel
    prediction = write(tmp_path / 'big.tif', big)
    with pytest.raises(QgsProcessingException, match='cancelled'):
        run_evaluate(run_algorithm, tmp_path, prediction, prediction,
                     feedback=Recording(cancel_after=20))
    assert not [name for name in os.listdir(tmp_path) if name.startswith('errors')]


def test_qgis_process_returns_the_numbers(tmp_path):
    result = qgis_process('run', 's2cloudcnn:evaluatemask', '--json', f'--PREDICTION={LABEL}',
                          f'--GROUND_TRUTH={LABEL}', f'--ERROR_MAP={tmp_path / "e.tif"}')
    outputs = json.loads(result.stdout)['results']
    assert outputs['FSCORE'] == pytest.approx(1.0) and outputs['FP'] == 0
    assert outputs['TP'] == int(np.sum(read(LABEL) == 1))
    assert read(str(tmp_path / 'e.tif')).max() == 1


def test_error_map_is_styled_on_load_and_beside_the_file(run_algorithm, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer

    from algorithms.core.evaluation.evaluate import ERROR_COLOURS
    from algorithms.support.styles import StylePostProcessor

    path = str(tmp_path / 'errors.tif')
    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(
        path, QgsProcessingContext.LayerDetails('errors', QgsProject.instance(), 'ERROR_MAP'))
    run_algorithm('s2cloudcnn:evaluatemask', {'PREDICTION': LABEL, 'GROUND_TRUTH': LABEL,
                                              'ERROR_MAP': path}, context=context)
    processor = context.layerToLoadOnCompletionDetails(path).postProcessor()
    assert isinstance(processor, StylePostProcessor)
    layer = QgsRasterLayer(path, 'errors')
    processor.postProcessLayer(layer, context, Recording())
    renderer = layer.renderer()
    assert renderer.type() == 'paletted'
    colours = {c.value: c.color.getRgb()[:3] for c in renderer.classes()}
    assert colours == {code: rgb for code, rgb in ERROR_COLOURS.items()}
    assert [c.label for c in renderer.classes()][2].startswith('FN')
    assert QgsRasterLayer(path, 'again').renderer().type() == 'paletted'  # .qml / colour table


def test_shadow_presets_score_shadow_and_cloud_or_shadow_against_alcd(run_algorithm, tmp_path):
    rng = np.random.default_rng(3)
    truth = rng.choice([2, 3, 4, 5, 6, 7], size=(512, 512)).astype(np.uint8)  # ALCD classes
    truth[:8] = 0  # ALCD no data
    prediction = rng.choice([0, 1, 2], size=(512, 512)).astype(np.uint8)  # 0 clear 1 cloud 2 shadow
    prediction[:, :5] = 255
    truth_path = write(tmp_path / 'alcd.tif', truth, nodata=None)
    prediction_path = write(tmp_path / 'cloud_shadow.tif', prediction)
    valid = (truth != 0) & (prediction != 255)
    for classes, positive, truth_positive in ((6, {2}, {4}), (8, {1, 2}, {2, 3, 4})):
        result, _ = run_evaluate(run_algorithm, tmp_path, prediction_path, truth_path,
                                 PREDICTION_CLASSES=classes, GROUND_TRUTH_CLASSES=classes + 1)
        expected = expected_counts(np.isin(prediction, list(positive)),
                                   np.isin(truth, list(truth_positive)), valid)
        assert {k: result[k] for k in expected} == expected
        tp, fp, fn = expected['TP'], expected['FP'], expected['FN']
        assert result['RECALL'] == pytest.approx(tp / (tp + fn))
        assert result['PRECISION'] == pytest.approx(tp / (tp + fp))
