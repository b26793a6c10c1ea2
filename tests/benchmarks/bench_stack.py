"""Benchmark: stack a full real 10980 x 10980 L1C tile (T32UPV) at 60 m; not a test.

Each configuration runs in its own process so that its peak memory (ru_maxrss) is its own.
Prints seconds, peak resident memory, the JPEG2000 decoding share, and the effect of
GDAL_NUM_THREADS, GDAL_CACHEMAX and the block height. Run with `make bench`.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TILE = os.path.join(REPO, 'tests', 'data', 'l1c',
                    'S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip')
TARGET_S = 60
CONFIGS = [  # (label, environment, block_rows, mode)
    ('default (block 128 rows)', {}, 128, 'stack'),
    ('GDAL_NUM_THREADS=1', {'GDAL_NUM_THREADS': '1'}, 128, 'stack'),
    ('GDAL_NUM_THREADS=ALL_CPUS', {'GDAL_NUM_THREADS': 'ALL_CPUS'}, 128, 'stack'),
    ('block 512 rows', {}, 512, 'stack'),
    ('block 1024 rows', {}, 1024, 'stack'),
    ('GDAL_CACHEMAX=64 MB', {'GDAL_CACHEMAX': '64'}, 128, 'stack'),
    ('JPEG2000 decoding only', {}, 128, 'decode'),
    ('decoding + area means', {}, 128, 'mean'),
]


def run_one(block_rows, mode):
    """Child process: stack (or only decode) the tile once; print JSON figures."""
    sys.path.insert(0, REPO)
    from algorithms.core import resample
    from algorithms.core.l1c_product import open_product
    from algorithms.core.stack import _band_mean, _open_band, _output_grid, stack_l1c
    from algorithms.core.windows import iter_windows

    start = time.perf_counter()
    if mode == 'stack':
        with tempfile.TemporaryDirectory() as folder:
            result = stack_l1c(TILE, os.path.join(folder, 'stack.tif'), block_rows=block_rows)
            size = (result.width, result.height, round(result.valid_fraction, 4))
    else:
        product = open_product(TILE)
        datasets = {b: _open_band(p) for b, p in product.band_files[32632].items()}
        geotransform, width, height = _output_grid(product, 32632, datasets, None, 60)
        for window in iter_windows(width, height, width, block_rows):
            for dataset in datasets.values():
                if mode == 'mean':
                    _band_mean(dataset, geotransform, window)
                else:
                    factor = round(60 / dataset.GetGeoTransform()[1])
                    resample.read_boundless(dataset.GetRasterBand(1), 0, window.row * factor,
                                            window.width * factor, window.height * factor)
        size = (width, height, None)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': seconds, 'peak_mb': peak_mb, 'size': size}))


def main():
    """Run every configuration in a child process and print a table."""
    print(f'Full tile: {os.path.basename(TILE)} (10980 x 10980 at 10 m; {os.cpu_count()} CPUs,'
          f' machine possibly shared with other jobs)')
    results = {}
    for label, env, block_rows, mode in CONFIGS:
        output = subprocess.run(
            [sys.executable, __file__, str(block_rows), mode], capture_output=True, text=True,
            env={**os.environ, **env}, check=True).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        results[label] = figures
        print(f'{label:32s} {figures["seconds"]:6.1f} s   peak {figures["peak_mb"]:6.0f} MB'
              f'   output {figures["size"]}')
    total = results['default (block 128 rows)']['seconds']
    decode = results['JPEG2000 decoding only']['seconds']
    means = results['decoding + area means']['seconds'] - decode
    print(f'JPEG2000 reading + decoding: {decode:.1f} s of {total:.1f} s '
          f'({100 * decode / total:.0f} %); area means {means:.1f} s; '
          f'reflectance, masking and writing the GeoTIFF {total - decode - means:.1f} s.')
    print(f'Target: under {TARGET_S} s -> {"met" if total < TARGET_S else "NOT met"}')


if __name__ == '__main__':
    if len(sys.argv) == 3:
        run_one(int(sys.argv[1]), sys.argv[2])
    else:
        main()
