"""Benchmark: products per minute of the many-products job, in one process and on Dask; not a test.

The job is four real full-tile L1C products (the T32UPV 2017 and the 2015 PDMC products of
tests/data/l1c, each under two names so that two workers get the same work), run three ways on
this machine, in the same run: the QGIS algorithm's core loop (one product at a time, all
cores for it), a Dask LocalCluster of 1 worker (all cores for its task) and of 2 workers
(half the cores each). Every run starts from an empty output folder (nothing to resume). The
cluster's start-up is timed apart from the job. Run with `make bench`.
"""

import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
L1C = os.path.join(REPO, 'tests', 'data', 'l1c')
TILES = ('S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip',
         'S2A_OPER_PRD_MSIL1C_PDMC_20151207T180211_R108_V20151207T103733_20151207T103733.SAFE.zip')
COPIES = 2


def archive(folder):
    """Link each tile under COPIES names into `folder`; return the folder."""
    for name in TILES:
        for copy in range(COPIES):
            os.symlink(os.path.join(L1C, name), os.path.join(folder, f'copy{copy}_{name}'))
    return folder


def timed_job(run, label, products):
    """Run `run()` -> rows, print products per minute; return the rows."""
    started = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - started
    failed = [row.error for row in rows if row.status != 'done']
    assert not failed, failed
    print(f'{label:<34} {len(products)} products in {seconds:6.1f} s = '
          f'{60 * len(products) / seconds:5.2f} products/min (load average after: '
          f'{os.getloadavg()[0]:.1f})')
    return rows


def main():
    """Print the three runs' figures."""
    sys.path.insert(0, REPO)
    from distributed import Client, LocalCluster

    from algorithms.core.batch.dask_job import run_on_dask
    from algorithms.core.batch.job import JobSettings, find_products, run_job
    from algorithms.support.paths import bundled_model_path

    settings = JobSettings(bundled_model_path('s2cloudcnn-l1c13'), provider='cpu')
    print(f'machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}')
    with tempfile.TemporaryDirectory(prefix='bench-many-') as scratch:
        products = find_products([archive(tempfile.mkdtemp(dir=scratch))])
        timed_job(lambda: run_job(products, os.path.join(scratch, 'serial'), settings),
                  'one process (QGIS algorithm core)', products)
        for workers in (1, 2):
            started = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.wait_for_workers(workers)
                print(f'  LocalCluster of {workers} started in '
                      f'{time.perf_counter() - started:.1f} s')
                folder = os.path.join(scratch, f'dask{workers}')
                timed_job(lambda client=client, folder=folder:
                          run_on_dask(client, products, folder, settings),
                          f'Dask, {workers} worker(s)', products)


if __name__ == '__main__':
    main()
