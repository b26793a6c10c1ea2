"""The many-products job on a Dask cluster: one task per product, the same table and resume rule.

Command line (no QGIS needed, on the client or the workers), from the plugin's folder:
    python -m algorithms.core.batch.dask_job FOLDER_OR_PRODUCT ... --output-folder OUT
        --model models/s2cloudcnn-l1c13.onnx [--workers N | --scheduler ADDRESS
        | --scheduler-file FILE]
"""

import argparse
import os
import sys
from contextlib import contextmanager
from dataclasses import replace

from osgeo import gdal

from ..errors import S2CloudCnnError
from ..raster_io import uses_gdal_exceptions
from .job import (
    FAILED,
    JobSettings,
    ProductRow,
    describe_row,
    error_message,
    find_products,
    name_clashes,
    prepare_job,
    run_product,
    write_table,
)


@uses_gdal_exceptions
def run_on_dask(client, products: list, folder: str, settings: JobSettings,
                log=None) -> list:
    """Run one task per product on `client`'s cluster; return one ProductRow each, in order.

    Every worker writes its product's outputs atomically into `folder`, which all workers and
    this process must see at the same path. A task that fails, or whose worker dies, is a
    failed row; the job goes on.

    Raises:
        ModelError, DependencyMissingError, OutputPathError: before any task is sent.

    """
    from distributed import as_completed

    log = log or (lambda _t: None)
    record = prepare_job(folder, settings)
    rows = [ProductRow(p, error=e) for p, e in name_clashes(products).items()]
    todo = [p for p in products if p not in {row.product for row in rows}]
    hosts = threads_per_host(client)
    futures = {client.submit(_task, product, folder, settings, record, hosts, pure=False):
               product for product in todo}
    for count, future in enumerate(as_completed(futures), start=1):
        try:
            row = future.result()
        except Exception as error:  # noqa: BLE001 - a lost worker fails its product, not the job
            row = ProductRow(futures[future], status=FAILED, error=error_message(error))
        rows.append(row)
        log(f'[{count}/{len(todo)}] {describe_row(row)}')
    order = {product: index for index, product in enumerate(products)}
    return sorted(rows, key=lambda row: order[row.product])


def threads_per_host(client) -> dict:
    """Return {host: Dask worker threads on it}: the tasks that may run there at once."""
    from distributed.comm import get_address_host

    hosts = {}
    for address, worker in client.scheduler_info(n_workers=-1)['workers'].items():
        host = get_address_host(address)
        hosts[host] = hosts.get(host, 0) + worker['nthreads']
    return hosts


def task_cores(hosts: dict, address: str, own_threads: int, available: int) -> int:
    """CPU cores one task may use: the host's cores shared by all Dask worker threads on it.

    A worker started after the job (adaptive scaling) is not in `hosts`: it shares its
    host's cores between its own threads.
    """
    from distributed.comm import get_address_host

    return max(1, available // hosts.get(get_address_host(address), own_threads))


def _task(product, folder, settings, record, hosts):
    """One product on a worker, using its share of the host's cores (no oversubscription)."""
    from distributed import get_worker

    worker = get_worker()
    cores = task_cores(hosts, worker.address, worker.state.nthreads, _available_cores())
    # onnxruntime: `cores` blocks at once, one thread each; GDAL's JPEG2000 decoding: `cores`.
    gdal.SetThreadLocalConfigOption('GDAL_NUM_THREADS', str(cores))
    try:
        return run_product(product, folder, replace(settings, cores=cores), record)
    finally:
        gdal.SetThreadLocalConfigOption('GDAL_NUM_THREADS', None)


def _available_cores():
    """CPU cores this process may use (a batch scheduler's CPU set, else all)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def dask_client(scheduler=None, scheduler_file=None, workers=0):
    """Yield a Client: of a running scheduler, or of a LocalCluster of `workers` processes."""
    from distributed import Client, LocalCluster

    if scheduler or scheduler_file:
        with Client(scheduler, scheduler_file=scheduler_file) as client:
            yield client
        return
    count = workers or max(1, _available_cores() // 2)
    with LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _parser():
    parser = argparse.ArgumentParser(
        prog='python -m algorithms.core.batch.dask_job',
        description='Detect clouds in many Sentinel-2 L1C products on a Dask cluster.')
    parser.add_argument('sources', nargs='+',
                        help='L1C products (SAFE folder or zip, MTD xml) and folders of them')
    parser.add_argument('--recursive', action='store_true', help='search sub-folders too')
    parser.add_argument('--output-folder', required=True,
                        help='where masks go (a folder every worker sees at the same path)')
    parser.add_argument('--table', help='job table, .csv or .gpkg (default: '
                                        '<output folder>/products.csv)')
    parser.add_argument('--model', required=True,
                        help='the .onnx model, e.g. models/s2cloudcnn-l1c13.onnx (a path every '
                             'worker can read)')
    parser.add_argument('--threshold', type=float, help="default: the model's own")
    parser.add_argument('--probability', action='store_true', help='also write P(cloud)')
    parser.add_argument('--provider', choices=('auto', 'cpu', 'cuda'), default='auto')
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--scheduler', help='address of a running Dask scheduler')
    where.add_argument('--scheduler-file', help="a running scheduler's JSON file")
    where.add_argument('--workers', type=int, default=0,
                       help='LocalCluster worker processes (default: half the cores)')
    return parser


def main(argv: 'list[str] | None' = None) -> int:
    """Run the job from the command line; return the exit status (0: table written)."""
    args = _parser().parse_args(argv)
    table = args.table or os.path.join(args.output_folder, 'products.csv')
    try:
        settings = JobSettings(os.path.abspath(args.model), args.threshold, args.probability,
                               args.provider)
        products = find_products(args.sources, args.recursive)
        with dask_client(args.scheduler, args.scheduler_file, args.workers) as client:
            rows = run_on_dask(client, products, args.output_folder, settings, log=print)
        write_table(rows, table)
    except S2CloudCnnError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    failed = sum(row.status == FAILED for row in rows)
    print(f'{len(rows)} products, {failed} failed; table: {table}')
    return 0


if __name__ == '__main__':
    # Run the module under its package name, so that the tasks sent to the workers refer to
    # algorithms.core.batch.dask_job (importable there) rather than to this __main__.
    from importlib import import_module

    sys.exit(import_module(__spec__.name).main())
