"""s2cloudcnn:summarizeevaluations over several real OnCloudN chips, two methods side by side."""

import os

import numpy as np
import pytest
from evaluation_helpers import (
    CHIPS,
    TRUTHS,
    Recording,
    csv_rows,
    expected_counts,
    read,
    shifted_and_perturbed,
    text,
    write,
)
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsVectorLayer

METRICS = ('accuracy', 'recall', 'precision', 'fscore', 'iou', 'kappa')


@pytest.fixture
def predictions(tmp_path):
    """Per chip a 'CNN' mask (shifted, perturbed label) and a 'Sen2Cor' SCL raster (exact)."""
    cnn, scl = [], []
    for chip in CHIPS:
        label = read(os.path.join(TRUTHS, f'{chip}.tif'))
        template = os.path.join(TRUTHS, f'{chip}.tif')
        cnn.append(write(tmp_path / f'{chip}_cnn.tif', shifted_and_perturbed(label), template))
        scl.append(write(tmp_path / f'{chip}-scl.tif', np.where(label == 1, 9, 4).astype(np.uint8),
                         template, nodata=0))
    # A prediction without a ground truth of its name: skipped and listed, not fatal.
    cnn.append(write(tmp_path / 'zzzz_cnn.tif', read(os.path.join(TRUTHS, 'kgvd.tif'))))
    return cnn, scl


def run_summary(run_algorithm, tmp_path, predictions, **extra):
    feedback = Recording()
    parameters = {'PREDICTIONS': predictions[0], 'PREDICTIONS_2': predictions[1],
                  'PREDICTION_2_CLASSES': 2, 'GROUND_TRUTH_FOLDER': TRUTHS,
                  'OUTPUT': 'TEMPORARY_OUTPUT', 'OUTPUT_CSV': str(tmp_path / 'metrics.csv'),
                  'REPORT': str(tmp_path / 'summary.html'), **extra}
    return run_algorithm('s2cloudcnn:summarizeevaluations', parameters, feedback=feedback), feedback


def test_summary_table_csv_plots_and_report(run_algorithm, tmp_path, predictions):
    result, feedback = run_summary(run_algorithm, tmp_path, predictions)
    rows = csv_rows(result['OUTPUT_CSV'])
    images = [r for r in rows if r['image'] in CHIPS]
    assert sorted((r['method'], r['image']) for r in images) == sorted(
        (m, c) for m in ('CNN', 'Sen2Cor') for c in CHIPS)
    for row in images:
        label = read(row['ground_truth'])
        if row['method'] == 'Sen2Cor':
            assert float(row['fscore']) == 1.0 and row['fp'] == row['fn'] == '0'
            continue
        prediction = shifted_and_perturbed(label)
        expected = expected_counts(prediction == 1, label == 1, prediction != 255)
        assert {k: int(row[k.lower()]) for k in expected} == expected, row['image']
    cnn = [r for r in images if r['method'] == 'CNN']
    mean = next(r for r in rows if r['method'] == 'CNN' and r['image'] == 'mean over images')
    for metric in METRICS:
        assert float(mean[metric]) == pytest.approx(
            np.mean([float(r[metric]) for r in cnn]), abs=1e-6)
    pooled = next(r for r in rows if r['method'] == 'CNN' and r['image'] == 'all pixels pooled')
    assert int(pooled['tp']) == sum(int(r['tp']) for r in cnn)
    assert result['OUTPUT'].featureCount() == len(rows) == 8 + 4
    assert any('skipped CNN zzzz_cnn.tif' in line for line in feedback.lines)

    html = text(result['REPORT'])
    for name in ('summary_per_image.png', 'summary_boxplots.png'):
        path = tmp_path / name
        assert f'<img src="{name}"' in html
        with open(path, 'rb') as stream:
            assert stream.read(8) == b'\x89PNG\r\n\x1a\n'
        pixels = gdal.Open(str(path)).ReadAsArray()
        assert pixels.shape[1] > 400 and len(np.unique(pixels)) > 20  # drawn, not blank
    assert 'zzzz_cnn.tif' in html and 'Sen2Cor scene classification' in html
    cloud_share = 100 * int(pooled['tp']) / (int(pooled['tp']) + int(pooled['fn']))
    assert (f'<tr><td class=text>1</td><td class=text>cloud</td><td class=text>cloud</td>'
            f'<td>{cloud_share:.2f} % of') in html  # CNN's detection rate of class 1


def test_ground_truth_list_instead_of_folder(run_algorithm, tmp_path, predictions):
    truths = [os.path.join(TRUTHS, f'{chip}.tif') for chip in CHIPS[:2]]
    result, _ = run_summary(run_algorithm, tmp_path, (predictions[0], []),
                            GROUND_TRUTH_FOLDER=None, GROUND_TRUTHS=truths, REPORT=None,
                            OUTPUT=None)
    rows = csv_rows(result['OUTPUT_CSV'])
    assert sorted(r['image'] for r in rows if r['image'] in CHIPS) == list(CHIPS[:2])


@pytest.mark.parametrize('extra, message', [
    ({'GROUND_TRUTH_FOLDER': None}, 'Give the ground truths'),
    ({'GROUND_TRUTH_FOLDER': os.path.join(TRUTHS, 'missing')}, 'not a folder'),
    ({'METHOD_NAME_2': 'CNN'}, 'its own name'),
    ({'PREDICTION_2_CLASSES': 5, 'PREDICTION_2_CLOUD_VALUES': '8-10'}, 'mapped to clear'),
])
def test_bad_input_gets_a_helpful_message(run_algorithm, tmp_path, predictions, extra, message):
    with pytest.raises(QgsProcessingException, match=message):
        run_summary(run_algorithm, tmp_path, predictions, **extra)


def test_nothing_paired_is_refused(run_algorithm, tmp_path, predictions):
    with pytest.raises(QgsProcessingException, match='name each ground truth after its image'):
        run_summary(run_algorithm, tmp_path, ([predictions[0][-1]], []))


def test_table_output_is_a_loadable_table(run_algorithm, tmp_path, predictions):
    result, _ = run_summary(run_algorithm, tmp_path, predictions,
                            OUTPUT=str(tmp_path / 'metrics.gpkg'), REPORT=None)
    layer = QgsVectorLayer(result['OUTPUT'], 'metrics', 'ogr')
    assert layer.isValid() and layer.featureCount() == 12
    assert [f.name() for f in layer.fields()][-4:] == ['tp', 'tn', 'fp', 'fn']


def test_cancel_writes_nothing(run_algorithm, tmp_path, predictions):
    feedback = Recording(cancel_after=30)
    with pytest.raises(QgsProcessingException, match='cancelled'):
        run_algorithm('s2cloudcnn:summarizeevaluations', {
            'PREDICTIONS': predictions[0], 'GROUND_TRUTH_FOLDER': TRUTHS,
            'OUTPUT_CSV': str(tmp_path / 'metrics.csv'), 'REPORT': str(tmp_path / 'r.html')},
            feedback=feedback)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(('.csv', '.html', '.png'))]
