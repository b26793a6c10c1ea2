"""The many-products job in one process: failures recorded, masks as single runs, resume."""

import csv
import os

import numpy as np
import pytest
from batch_fixtures import (
    DAMAGED,
    GOOD,
    L2A,
    MODEL,
    assert_rows_match_archive,
    make_archive,
    read,
    single_product_masks,
)

from algorithms.core.batch.job import (
    JobSettings,
    find_products,
    output_paths,
    run_job,
    write_table,
)
from algorithms.core.errors import CancelledError
from algorithms.core.run import RunContext


@pytest.fixture(scope='module')
def archive(tmp_path_factory):
    return make_archive(str(tmp_path_factory.mktemp('archive') / 'l1c'))


@pytest.fixture(scope='module')
def single_masks(tmp_path_factory):
    return single_product_masks(str(tmp_path_factory.mktemp('single')))


def settings(**changes):
    return JobSettings(MODEL, provider='cpu', **changes)


def test_find_products_in_a_folder_its_sub_folders_and_a_list(archive, tmp_path):
    folder = os.path.dirname(archive['truncated'])
    top = find_products([folder])
    assert [os.path.basename(p) for p in top] == sorted(
        [DAMAGED, L2A, os.path.basename(archive[next(iter(GOOD))])])
    everything = find_products([folder], recursive=True)
    assert sorted(everything) == sorted(archive.values())
    # A list may mix products and folders; each product comes once.
    assert find_products([archive['truncated'], folder]) == [archive['truncated']] + [
        p for p in top if p != archive['truncated']]


def test_job_records_bad_products_and_writes_the_single_run_masks(archive, single_masks,
                                                                 tmp_path):
    products = find_products([os.path.dirname(archive['truncated'])], recursive=True)
    lines = []
    rows = run_job(products, str(tmp_path / 'out'), settings(probability=True),
                   RunContext(log=lines.append))
    assert_rows_match_archive(rows, archive)
    assert len(lines) == len(products)
    for name, expected in single_masks.items():
        mask, probability = output_paths(archive[name], str(tmp_path / 'out'))
        np.testing.assert_array_equal(read(mask), expected)
        assert read(probability).shape == expected.shape
    assert sorted(os.listdir(tmp_path / 'out')) == sorted(
        f'{name}_{kind}.tif' for name in GOOD for kind in ('cloudmask', 'probability'))
    write_table(rows, str(tmp_path / 'products.csv'))
    with open(tmp_path / 'products.csv', newline='') as stream:
        table = list(csv.DictReader(stream))
    assert [r['status'] for r in table] == [r.status for r in rows]
    assert [float(r['cloud_fraction'] or 'nan') for r in table] == pytest.approx(
        [np.nan if r.cloud_fraction is None else r.cloud_fraction for r in rows], nan_ok=True)


def test_a_second_run_skips_what_is_done_with_the_same_model_and_settings(archive, tmp_path):
    products = [archive[name] for name in GOOD]
    out = str(tmp_path / 'out')
    first = run_job(products, out, settings())
    os.remove(output_paths(products[1], out)[0])
    again = run_job(products, out, settings())
    assert [r.status for r in again] == ['skipped', 'done']
    assert [(r.product_id, r.tile, r.valid_fraction, r.cloud_fraction) for r in again] == [
        (r.product_id, r.tile, r.valid_fraction, r.cloud_fraction) for r in first]
    # Another threshold, or probabilities not written before: the products are done again.
    assert [r.status for r in run_job(products, out, settings(threshold=0.9))] == ['done'] * 2
    assert [r.status for r in run_job(products, out, settings(threshold=0.9,
                                                              probability=True))] == ['done'] * 2
    assert [r.status for r in run_job(products, out, settings(threshold=0.9))] == ['skipped'] * 2


def test_cancel_between_products_keeps_the_finished_ones_only(archive, tmp_path):
    products = [archive[name] for name in GOOD]
    out = str(tmp_path / 'out')
    done = []
    with pytest.raises(CancelledError, match='after 1 of 2 products.*resume'):
        run_job(products, out, settings(), RunContext(is_canceled=lambda: bool(done),
                                                      log=done.append))
    assert os.listdir(out) == [os.path.basename(output_paths(products[0], out)[0])]


def test_two_copies_of_a_product_are_not_run_twice(archive, tmp_path):
    name = next(iter(GOOD))
    copy = tmp_path / 'copy' / os.path.basename(archive[name])
    copy.parent.mkdir()
    copy.write_bytes(open(archive[name], 'rb').read())
    rows = run_job([archive[name], str(copy)], str(tmp_path / 'out'), settings())
    assert rows[0].status == 'done'
    assert rows[1].status == 'failed' and 'named like those of' in rows[1].error
