"""The graphical model shipped in resources/: L1C product -> stack -> detect -> evaluate."""

import json
from xml.etree.ElementTree import canonicalize

import numpy as np
from conftest import qgis_process
from l1c_fixtures import T32UPV, T32UPV_STRIP_EXTENT, esa_cloud_truth
from osgeo import gdal
from tools.make_workflow_model import INPUT_ORDER, MODEL_PATH, build_model

EXTENT = T32UPV_STRIP_EXTENT


def _canonical(path):
    # Qt writes XML attributes in hash order: compare the canonical form (sorted attributes).
    with open(path, encoding='utf-8') as handle:
        text = handle.read().replace('<!DOCTYPE model>', '')
    return canonicalize(text, strip_text=True)


def test_committed_model_file_is_what_the_generator_builds(provider, tmp_path):
    rebuilt = tmp_path / 'rebuilt.model3'
    assert build_model().toFile(str(rebuilt))
    assert _canonical(rebuilt) == _canonical(MODEL_PATH)


def test_model_file_is_valid_as_the_designer_opens_it(provider):
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(MODEL_PATH)
    assert model.validate() == (True, [])
    inputs = [p.name() for p in model.parameterDefinitions() if not p.isDestination()]
    assert inputs == list(INPUT_ORDER)  # product first, as a user fills them in
    assert not any('[optional]' in p.description() or '(optional)' in p.description()
                   for p in model.parameterDefinitions())


def test_model_is_offered_by_the_provider(provider):
    algorithm = provider.algorithm('l1ccloudmask')
    assert algorithm is not None
    names = {p.name() for p in algorithm.parameterDefinitions()}
    assert {'product', 'extent', 'ground_truth', 'ground_truth_classes',
            'detect:cloud_mask', 'evaluate:error_map', 'evaluate:report'} <= names
    outputs = {o.name() for o in algorithm.outputDefinitions()}
    assert {'FSCORE', 'ACCURACY', 'RECALL', 'PRECISION', 'TP', 'TN', 'FP', 'FN'} <= outputs


def _run(tmp_path, *extra):
    result = qgis_process('run', 's2cloudcnn:l1ccloudmask', '--json', '--',
                          f'product={T32UPV}', f'extent={EXTENT}',
                          f'detect:cloud_mask={tmp_path / "mask.tif"}', *extra)
    return json.loads(result.stdout)['results']


def test_chain_with_ground_truth_through_qgis_process(tmp_path):
    truth = esa_cloud_truth(tmp_path / 'esa_clouds.tif')
    results = _run(tmp_path, f'ground_truth={truth}', 'ground_truth_classes=0',
                   f'evaluate:error_map={tmp_path / "errors.tif"}',
                   f'evaluate:report={tmp_path / "report.html"}')
    without_error_map = _run(tmp_path, f'ground_truth={truth}', 'ground_truth_classes=0')
    assert without_error_map['FSCORE'] == results['FSCORE']
    mask = gdal.Open(results['detect:cloud_mask']).ReadAsArray()
    assert mask.shape == (525, 154)
    assert set(np.unique(mask)) <= {0, 1, 255}
    errors = gdal.Open(results['evaluate:error_map']).ReadAsArray()
    expected = np.where(mask == 255, 255, mask + 2 * (mask != gdal.Open(truth).ReadAsArray()))
    expected = np.where((expected == 3) & (mask == 0), 2, expected)  # cloud missed: FN
    expected = np.where((expected == 3) & (mask == 1), 3, expected)  # false cloud: FP
    assert np.array_equal(errors, expected)
    counts = {name: int(np.count_nonzero(errors == code))
              for name, code in (('TN', 0), ('TP', 1), ('FN', 2), ('FP', 3))}
    assert {name: results[name] for name in counts} == counts
    assert np.isclose(results['FSCORE'],
                      2 * counts['TP'] / (2 * counts['TP'] + counts['FP'] + counts['FN']))
    assert 'F-score' in open(results['evaluate:report'], encoding='utf-8').read()


def test_chain_without_ground_truth_skips_the_evaluation(tmp_path):
    results = _run(tmp_path)
    assert gdal.Open(results['detect:cloud_mask']) is not None
    assert 'FSCORE' not in results
    cloud = np.count_nonzero(gdal.Open(results['detect:cloud_mask']).ReadAsArray() == 1)
    strict = _run(tmp_path, 'model=s2cloudcnn-l1c13', 'threshold=0.999')
    strict_cloud = np.count_nonzero(gdal.Open(strict['detect:cloud_mask']).ReadAsArray() == 1)
    assert strict_cloud < cloud  # the model's threshold input reaches the detection
