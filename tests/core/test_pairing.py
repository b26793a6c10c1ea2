"""The methods table, file name patterns and the pairing of predictions with ground truths."""

import pytest

from algorithms.core.errors import MethodTableError, PairingError
from algorithms.core.evaluation.metrics import PRESETS
from algorithms.core.evaluation.pairing import (
    Method,
    assign,
    match_truth,
    matches,
    methods_from_table,
    pair,
)


def test_table_rows_become_methods_in_order():
    methods = methods_from_table(['CNN', '*_cnn.tif', 'mask', '', '', '',
                                  'Sen2Cor', '*_scl.tif', '2', '', '', '',
                                  'prob', '*_p.tif', 'probability', '', '', '0.3',
                                  'mine', '*_x.tif', 'custom', '8-10 12', '2', ''])
    assert [m.name for m in methods] == ['CNN', 'Sen2Cor', 'prob', 'mine']
    assert methods[0].mapping == PRESETS['mask'] and methods[1].mapping == PRESETS['scl']
    assert methods[2].mapping.threshold == 0.3
    assert (methods[3].mapping.cloud, methods[3].mapping.clear) == ({8, 9, 10, 12}, {2})


def test_numbers_as_qgis_process_passes_them_are_read_as_written():
    # qgis_process splits 'x,*,5,8,2,' on commas and turns every number into a float
    (method,) = methods_from_table(['x', '*', 5.0, 8.0, 2.0, ''])
    assert (method.mapping.cloud, method.mapping.clear) == ({8}, {2})


@pytest.mark.parametrize('cells, message', [
    (['CNN', '*', 'mask', '', ''], '5 cells; give 6 per method'),
    (['CNN', '', 'mask', '', '', ''], 'method row 1 .CNN.: give'),
    (['CNN', '*', '', '', '', ''], 'method row 1 .CNN.: give'),
    (['a', '*', 'mask', '', '', '', 'a', '*', 'scl', '', '', ''], "two methods are named 'a'"),
    (['a', '*', 'Fmask4', '', '', ''], 'give its number 0-9 or its key'),
    (['a', '*', 'probability', '', '', 'x'], "threshold 'x' is not a number"),
    (['a', '*', 'custom', '', '2', ''], 'no value is mapped to cloud'),
])
def test_unusable_tables_are_refused(cells, message):
    with pytest.raises(MethodTableError, match=message):
        methods_from_table(cells)


def test_patterns_match_file_names_or_whole_paths_ignoring_case():
    assert matches('*_cnn.tif', '/data/run/KGVD_CNN.TIF')
    assert not matches('*_cnn.tif', '/data/x_cnn.tif/kgvd.tif')
    assert matches('*/scl/*', r'C:\data\SCL\kgvd.tif')
    assert not matches('scl/*', '/data/scl/kgvd.tif')  # a path pattern covers the whole path
    assert matches('kgv?.tif', '/a/kgvd.tif')


def test_each_prediction_goes_to_the_first_fitting_row():
    methods = methods_from_table(['scl', '*_scl.tif', 'scl', '', '', '',
                                  'rest', '*', 'mask', '', '', ''])
    assigned = assign(methods, ['/a/kgvd_scl.tif', '/a/kgvd_cnn.tif', '/a/jaag.tif'])
    assert [m.predictions for m in assigned] == [('/a/kgvd_scl.tif',),
                                                 ('/a/kgvd_cnn.tif', '/a/jaag.tif')]
    with pytest.raises(MethodTableError, match="the method 'rest'; correct the pattern"):
        assign(methods, ['/a/kgvd_scl.tif'])
    with pytest.raises(MethodTableError, match=r'kgvd.vrt fits no method.s pattern \(\*_scl'):
        assign(methods[:1], ['/a/kgvd_scl.tif', '/a/kgvd.vrt'])


def test_ground_truth_name_rule():
    truths = ['/t/kgvd.tif', '/t/kgvd_2.tif', '/t/jaag.tif']
    assert match_truth('/p/kgvd_cnn.tif', truths) == '/t/kgvd.tif'
    assert match_truth('/p/KGVD-scl.tif', truths) == '/t/kgvd.tif'
    assert match_truth('/p/kgvd_2_cnn.tif', truths) == '/t/kgvd_2.tif'  # the longest name wins
    assert match_truth('/p/kgvdx.tif', truths) is None
    with pytest.raises(PairingError, match="2 ground truths are named 'jaag'"):
        match_truth('/p/jaag.tif', truths + ['/u/jaag.vrt'])


def test_pairs_skip_predictions_without_truth_and_refuse_two_of_one_image():
    method = Method('cnn', '*', PRESETS['mask'], ('/p/kgvd_cnn.tif', '/p/zzzz.tif'))
    jobs, skipped = pair([method], ['/t/kgvd.tif'])
    assert [(m.name, image, p, t) for m, image, p, t in jobs] == [
        ('cnn', 'kgvd', '/p/kgvd_cnn.tif', '/t/kgvd.tif')]
    assert skipped == [('cnn', '/p/zzzz.tif', 'no ground truth with a matching name')]
    twice = Method('cnn', '*', PRESETS['mask'], ('/p/kgvd_cnn.tif', '/q/kgvd.tif'))
    with pytest.raises(PairingError, match="two predictions of the image 'kgvd'"):
        pair([twice], ['/t/kgvd.tif'])
