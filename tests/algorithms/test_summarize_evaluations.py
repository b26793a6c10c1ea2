"""s2cloudcnn:summarizeevaluations over real OnCloudN chips, three methods side by side.

Every number in its tables is checked against s2cloudcnn:evaluatemask run on the same pair,
and the per-method means and pooled metrics against numpy over those per-image numbers.
"""

import json
import os

import numpy as np
import pytest
from conftest import qgis_process
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

SUMMARY = 's2cloudcnn:summarizeevaluations'
METRICS = ('accuracy', 'recall', 'precision', 'fscore', 'iou', 'kappa')
COUNTS = ('tp', 'tn', 'fp', 'fn')
# name, file name pattern, classes, cloud values, clear values, threshold: one row per method
METHODS = ['CNN', '*_cnn.tif', '0', '', '', '',
           'Sen2Cor', '*-scl.tif', 'scl', '', '', '',
           'Fmask', '*/fmask/*', '3', '', '', '']
CLASSES = {'CNN': 0, 'Sen2Cor': 2, 'Fmask': 3, 'ours': 0, 'fmask 4.3': 3}  # evaluatemask's


def _fmask(label):
    """Fmask codes from the label: 4 cloud, 0 or 3 (snow) clear, false clouds, a no-data edge."""
    fmask = np.where(label == 1, 4, 0).astype(np.uint8)
    fmask.flat[np.flatnonzero(label == 0)[::2]] = 3
    fmask[300:340, 50:150] = 4
    fmask[:, :10] = 255
    return fmask


@pytest.fixture
def predictions(tmp_path):
    """Per chip a CNN mask (shifted, perturbed label), a SCL raster (exact), an Fmask raster."""
    (tmp_path / 'fmask').mkdir()
    files = []
    for chip in CHIPS:
        template = os.path.join(TRUTHS, f'{chip}.tif')
        label = read(template)
        files += [write(tmp_path / f'{chip}_cnn.tif', shifted_and_perturbed(label), template),
                  write(tmp_path / f'{chip}-scl.tif', np.where(label == 1, 9, 4).astype(np.uint8),
                        template, nodata=0),
                  write(tmp_path / 'fmask' / f'{chip}.tif', _fmask(label), template, nodata=None)]
    # A prediction without a ground truth of its name: skipped and listed, not fatal.
    files.append(write(tmp_path / 'zzzz_cnn.tif', read(os.path.join(TRUTHS, 'kgvd.tif'))))
    return files


def run_summary(run_algorithm, tmp_path, predictions, **extra):
    feedback = Recording()
    parameters = {'PREDICTIONS': predictions, 'METHODS': METHODS, 'GROUND_TRUTH_FOLDER': TRUTHS,
                  'PER_IMAGE': 'TEMPORARY_OUTPUT', 'PER_METHOD': 'TEMPORARY_OUTPUT',
                  'PER_IMAGE_CSV': str(tmp_path / 'per_image.csv'),
                  'PER_METHOD_CSV': str(tmp_path / 'per_method.csv'),
                  'REPORT': str(tmp_path / 'summary.html'), **extra}
    return run_algorithm(SUMMARY, parameters, feedback=feedback), feedback


def evaluated_alone(run_algorithm, row):
    """Evaluate cloud mask's own numbers for the pair of a per-image row, keyed like the row."""
    result = run_algorithm('s2cloudcnn:evaluatemask', {
        'PREDICTION': row['prediction'], 'PREDICTION_CLASSES': CLASSES[row['method']],
        'GROUND_TRUTH': row['ground_truth']})
    return {key: result[key.upper()] for key in METRICS + COUNTS}


def test_per_image_table_holds_each_pair_as_evaluate_finds_it(run_algorithm, tmp_path,
                                                               predictions):
    result, feedback = run_summary(run_algorithm, tmp_path, predictions)
    rows = csv_rows(result['PER_IMAGE_CSV'])
    assert [(r['method'], r['image']) for r in rows] == [
        (m, c) for m in ('CNN', 'Sen2Cor', 'Fmask') for c in CHIPS]  # no aggregate rows
    for row in rows:
        alone = evaluated_alone(run_algorithm, row)
        assert {k: int(row[k]) for k in COUNTS} == {k: alone[k] for k in COUNTS}, row
        assert {k: float(row[k]) for k in METRICS} == pytest.approx(
            {k: alone[k] for k in METRICS}, abs=1e-6), row
        if row['method'] == 'CNN':  # and by hand, with numpy
            label = read(row['ground_truth'])
            prediction = shifted_and_perturbed(label)
            expected = expected_counts(prediction == 1, label == 1, prediction != 255)
            assert {k: int(row[k.lower()]) for k in expected} == expected, row['image']
    assert result['PER_IMAGE'].featureCount() == len(rows) == 3 * len(CHIPS)
    assert any('skipped CNN zzzz_cnn.tif' in line for line in feedback.lines)


def test_per_method_table_means_and_pools_the_per_image_numbers(run_algorithm, tmp_path,
                                                                predictions):
    result, _ = run_summary(run_algorithm, tmp_path, predictions)
    images = csv_rows(result['PER_IMAGE_CSV'])
    methods = csv_rows(result['PER_METHOD_CSV'])
    assert [r['method'] for r in methods] == ['CNN', 'Sen2Cor', 'Fmask']
    for row in methods:
        own = [r for r in images if r['method'] == row['method']]
        assert (int(row['images']), int(row['skipped'])) == (
            len(CHIPS), 1 if row['method'] == 'CNN' else 0)
        for metric in METRICS:
            assert float(row[f'{metric}_mean']) == pytest.approx(
                np.mean([float(r[metric]) for r in own]), abs=1e-6), (row['method'], metric)
        pooled = {k: sum(int(r[k]) for r in own) for k in COUNTS}
        assert {k: int(row[k]) for k in COUNTS} == pooled
        tp, tn, fp, fn = (pooled[k] for k in COUNTS)
        assert float(row['fscore_pooled']) == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-6)
        assert float(row['accuracy_pooled']) == pytest.approx((tp + tn) / (tp + tn + fp + fn),
                                                              abs=1e-6)
    assert float(methods[1]['fscore_mean']) == 1.0 > float(methods[0]['fscore_mean'])
    layer = result['PER_METHOD']
    assert layer.featureCount() == 3
    assert [f['method'] for f in layer.getFeatures()] == ['CNN', 'Sen2Cor', 'Fmask']


def test_report_shows_both_tables_and_the_plots(run_algorithm, tmp_path, predictions):
    result, _ = run_summary(run_algorithm, tmp_path, predictions)
    html = text(result['REPORT'])
    for name in ('summary_per_image.png', 'summary_boxplots.png'):
        assert f'<img src="{name}"' in html
        with open(tmp_path / name, 'rb') as stream:
            assert stream.read(8) == b'\x89PNG\r\n\x1a\n'
        pixels = gdal.Open(str(tmp_path / name)).ReadAsArray()
        assert pixels.shape[1] > 400 and len(np.unique(pixels)) > 20  # drawn, not blank
    for heading in ('Mean over images', 'All pixels pooled', 'Per image'):
        assert f'>{heading}</h' in html
    assert 'zzzz_cnn.tif' in html and 'Sen2Cor scene classification' in html
    cnn = csv_rows(result['PER_METHOD_CSV'])[0]
    assert f'<td class=text>CNN</td><td>{len(CHIPS)}</td><td>1</td>' \
           f'<td>{float(cnn["accuracy_mean"]):.4f}</td>' in html
    cloud_share = 100 * int(cnn['tp']) / (int(cnn['tp']) + int(cnn['fn']))
    assert (f'<tr><td class=text>1</td><td class=text>cloud</td><td class=text>cloud</td>'
            f'<td>{cloud_share:.2f} % of') in html  # CNN's detection rate of class 1


def test_ground_truth_list_instead_of_folder(run_algorithm, tmp_path, predictions):
    truths = [os.path.join(TRUTHS, f'{chip}.tif') for chip in CHIPS[:2]]
    result, _ = run_summary(run_algorithm, tmp_path, predictions, GROUND_TRUTH_FOLDER=None,
                            GROUND_TRUTHS=truths, REPORT=None, PER_IMAGE=None)
    rows = csv_rows(result['PER_IMAGE_CSV'])
    assert sorted({r['image'] for r in rows}) == list(CHIPS[:2])
    assert {r['method']: r['skipped'] for r in csv_rows(result['PER_METHOD_CSV'])} == {
        'CNN': '3', 'Sen2Cor': '2', 'Fmask': '2'}


def test_method_names_and_order_come_from_the_table(run_algorithm, tmp_path, predictions):
    methods = ['fmask 4.3', '*/FMASK/*', 'fmask', '', '', '',
               'ours', '*', 'custom', '1', '0', '']  # the rest, with custom values
    scl = [p for p in predictions if p.endswith('-scl.tif')]
    result, _ = run_summary(run_algorithm, tmp_path,
                            [p for p in predictions if p not in scl], METHODS=methods)
    rows = csv_rows(result['PER_METHOD_CSV'])
    assert [(r['method'], r['images']) for r in rows] == [('fmask 4.3', '4'), ('ours', '4')]
    for row in csv_rows(result['PER_IMAGE_CSV']):
        assert {k: int(row[k]) for k in COUNTS} == {
            k: v for k, v in evaluated_alone(run_algorithm, row).items() if k in COUNTS}, row


def _with_row(*row):
    return METHODS + list(row)


@pytest.mark.parametrize('extra, message', [
    ({'GROUND_TRUTH_FOLDER': None}, 'Give the ground truths'),
    ({'GROUND_TRUTH_FOLDER': os.path.join(TRUTHS, 'missing')}, 'not a folder'),
    ({'METHODS': _with_row('CNN', '*.vrt', '0', '', '', '')}, "two methods are named 'CNN'"),
    ({'METHODS': METHODS[:-1]}, r'17 cells; give 6 per method'),
    ({'METHODS': _with_row('', '*.vrt', '0', '', '', '')}, "give the method's name"),
    ({'METHODS': _with_row('X', '*.vrt', 'sccl', '', '', '')}, "'sccl' is not a preset"),
    ({'METHODS': _with_row('X', '*.vrt', '10', '', '', '')}, "'10' is not a preset"),
    ({'METHODS': _with_row('X', '*.vrt', 'custom', '8-10', '', '')}, 'no value is mapped to clear'),
    ({'METHODS': _with_row('X', '*.vrt', 'probability', '', '', 'half')}, 'is not a number'),
    ({'METHODS': _with_row('s2cloudless', '*_s2c.tif', '4', '', '', '')},
     "no prediction fits the pattern '\\*_s2c.tif' of the method 's2cloudless'"),
    ({'METHODS': METHODS[:12]}, r'the prediction (jaag|kgqd|kgvd|khcn).tif fits no method'),
    ({'METHODS': ['CNN', '*', '0', '', '', '']}, "the method 'CNN' has two predictions of"),
    ({'PER_IMAGE_CSV': os.path.join(TRUTHS, 'kgvd.tif')}, 'is also an input'),
])
def test_bad_input_is_refused_and_nothing_is_written(run_algorithm, tmp_path, predictions,
                                                      extra, message):
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(QgsProcessingException, match=message):
        run_summary(run_algorithm, tmp_path, predictions, **extra)
    assert sorted(os.listdir(tmp_path)) == before


def test_nothing_paired_is_refused(run_algorithm, tmp_path, predictions):
    with pytest.raises(QgsProcessingException, match='name each ground truth after its image'):
        run_summary(run_algorithm, tmp_path, [predictions[-1]], METHODS=None)


@pytest.mark.parametrize('methods', [None, []])
def test_without_a_methods_table_every_prediction_is_one_cnn_method(run_algorithm, tmp_path,
                                                                     predictions, methods):
    cnn = [p for p in predictions if p.endswith('_cnn.tif')]
    result, _ = run_summary(run_algorithm, tmp_path, cnn, METHODS=methods)
    rows = csv_rows(result['PER_METHOD_CSV'])
    assert [(r['method'], r['images'], r['skipped']) for r in rows] == [('CNN', '4', '1')]


def test_table_outputs_are_loadable_tables(run_algorithm, tmp_path, predictions):
    result, _ = run_summary(run_algorithm, tmp_path, predictions, REPORT=None,
                            PER_IMAGE=str(tmp_path / 'per_image.gpkg'),
                            PER_METHOD=str(tmp_path / 'per_method.gpkg'))
    per_image = QgsVectorLayer(result['PER_IMAGE'], 'per image', 'ogr')
    assert per_image.isValid() and per_image.featureCount() == 12
    assert [f.name() for f in per_image.fields()][-4:] == list(COUNTS)
    per_method = QgsVectorLayer(result['PER_METHOD'], 'per method', 'ogr')
    assert per_method.isValid() and per_method.featureCount() == 3
    assert {'fscore_mean', 'fscore_pooled', 'images', 'skipped'} <= set(
        per_method.fields().names())


def test_cancel_writes_nothing(run_algorithm, tmp_path, predictions):
    feedback = Recording(cancel_after=30)
    with pytest.raises(QgsProcessingException, match='cancelled'):
        run_algorithm(SUMMARY, {
            'PREDICTIONS': predictions, 'METHODS': METHODS, 'GROUND_TRUTH_FOLDER': TRUTHS,
            'PER_IMAGE_CSV': str(tmp_path / 'per_image.csv'),
            'PER_METHOD_CSV': str(tmp_path / 'per_method.csv'),
            'REPORT': str(tmp_path / 'r.html')}, feedback=feedback)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(('.csv', '.html', '.png'))]


def test_in_a_graphical_model_with_the_methods_as_a_model_input(provider, tmp_path,
                                                               predictions):
    """The designer's way: predictions and methods table are model inputs of the child step."""
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterMatrix,
        QgsProcessingParameterMultipleLayers,
    )

    from algorithms.support.qgis_compat import SOURCE_RASTER

    model = QgsProcessingModelAlgorithm('summary model', 'tests')
    model.addModelParameter(QgsProcessingParameterMultipleLayers(
        'masks', 'Masks', SOURCE_RASTER), QgsProcessingModelParameter('masks'))
    model.addModelParameter(QgsProcessingParameterMatrix(
        'methods', 'Methods', headers=['a'] * 6), QgsProcessingModelParameter('methods'))
    child = QgsProcessingModelChildAlgorithm(SUMMARY)
    child.setChildId('summary')
    child.addParameterSources('PREDICTIONS', [
        QgsProcessingModelChildParameterSource.fromModelParameter('masks')])
    child.addParameterSources('METHODS', [
        QgsProcessingModelChildParameterSource.fromModelParameter('methods')])
    for name, value in (('GROUND_TRUTH_FOLDER', TRUTHS), ('GROUND_TRUTH_CLASSES', 0),
                        ('GROUND_TRUTH_THRESHOLD', 0.5)):
        child.addParameterSources(name, [
            QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    output = QgsProcessingModelOutput('per_method', 'Per method')
    output.setChildOutputName('PER_METHOD_CSV')
    child.setModelOutputs({'per_method': output})
    model.addChildAlgorithm(child)
    assert model.validate() == (True, [])
    result = processing.run(model, {'masks': predictions, 'methods': METHODS,
                                    'summary:per_method': str(tmp_path / 'model.csv')})
    rows = csv_rows(result['summary:per_method'])
    assert [r['method'] for r in rows] == ['CNN', 'Sen2Cor', 'Fmask']


def test_qgis_process_with_the_methods_as_one_comma_separated_value(tmp_path, predictions):
    methods = 'CNN,*_cnn.tif,0,,,,Sen2Cor,*-scl.tif,2,,,'
    cnn_and_scl = [p for p in predictions if '/fmask/' not in p]
    result = qgis_process('run', SUMMARY, '--json',
                          *(f'--PREDICTIONS={p}' for p in cnn_and_scl), f'--METHODS={methods}',
                          f'--GROUND_TRUTH_FOLDER={TRUTHS}',
                          f'--PER_METHOD_CSV={tmp_path / "per_method.csv"}',
                          f'--PER_IMAGE_CSV={tmp_path / "per_image.csv"}')
    outputs = json.loads(result.stdout)['results']
    rows = csv_rows(outputs['PER_METHOD_CSV'])
    assert [(r['method'], r['images']) for r in rows] == [('CNN', '4'), ('Sen2Cor', '4')]
    assert len(csv_rows(outputs['PER_IMAGE_CSV'])) == 8
