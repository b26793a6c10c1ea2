"""The many-products job on a Dask LocalCluster of 2 workers, and its command line."""

import os
import subprocess
import sys

import numpy as np
import pytest
from batch_fixtures import (
    GOOD,
    MODEL,
    assert_rows_match_archive,
    make_archive,
    read,
    single_product_masks,
)
from conftest import REPO

from algorithms.core.batch.job import JobSettings, find_products, output_paths


@pytest.fixture(scope='module')
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def test_two_workers_record_failures_write_single_run_masks_and_resume(client, tmp_path):
    from algorithms.core.batch.dask_job import run_on_dask, threads_per_host

    assert sum(threads_per_host(client).values()) == 2
    archive = make_archive(str(tmp_path / 'l1c'))
    products = find_products([str(tmp_path / 'l1c')], recursive=True)
    out, settings = str(tmp_path / 'out'), JobSettings(MODEL, provider='cpu')
    rows = run_on_dask(client, products, out, settings)
    assert [r.product for r in rows] == products
    assert_rows_match_archive(rows, archive)
    for name, expected in single_product_masks(str(tmp_path / 'single')).items():
        np.testing.assert_array_equal(read(output_paths(archive[name], out)[0]), expected)
    assert not [n for n in os.listdir(out) if 'partial' in n]
    again = run_on_dask(client, products, out, settings)
    assert_rows_match_archive(again, archive, statuses=('skipped', 'skipped'))


def test_command_line_runs_its_own_local_cluster_and_writes_the_table(tmp_path):
    archive = make_archive(str(tmp_path / 'l1c'))
    table = tmp_path / 'products.gpkg'
    command = [sys.executable, '-m', 'algorithms.core.batch.dask_job', str(tmp_path / 'l1c'),
               '--recursive', '--output-folder', str(tmp_path / 'out'), '--workers', '2',
               '--provider', 'cpu', '--probability', '--table', str(table), '--model', MODEL]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert '4 products, 2 failed' in result.stdout
    from osgeo import ogr

    source = ogr.Open(str(table))  # kept: its layer dies with it
    statuses = {os.path.basename(f['product']): f['status'] for f in source.GetLayer(0)}
    assert statuses == {os.path.basename(p): 'done' if n in GOOD else 'failed'
                        for n, p in archive.items()}
    for name in GOOD:
        assert all(os.path.isfile(p) for p in output_paths(archive[name], str(tmp_path / 'out')))


def test_command_line_says_what_is_wrong_with_the_model(tmp_path):
    command = [sys.executable, '-m', 'algorithms.core.batch.dask_job', str(tmp_path),
               '--output-folder', str(tmp_path / 'out'), '--model', 'no-such-model.onnx']
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert 'no-such-model.onnx does not exist' in result.stderr
    assert 'Traceback' not in result.stderr


def test_tasks_share_the_cores_of_their_host():
    from algorithms.core.batch.dask_job import task_cores

    two_workers = {'127.0.0.1': 2}
    assert task_cores(two_workers, 'tcp://127.0.0.1:40001', 1, 2) == 1
    assert task_cores({'127.0.0.1': 1}, 'tcp://127.0.0.1:40001', 1, 2) == 2
    assert task_cores(two_workers, 'tcp://10.0.0.7:40001', 4, 16) == 4  # joined later
    assert task_cores({'10.0.0.7': 32}, 'tcp://10.0.0.7:40001', 32, 16) == 1
