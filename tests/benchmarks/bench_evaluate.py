"""Benchmark: evaluate a full 10980 x 10980 mask at 10 m against ground truth; not a test.

The rasters are a real OnCloudN label tiled to tile size (the prediction shifted by 7 px), the
ground truth once on the same grid and once at 20 m (regridded on the fly). Each run is its own
process so that its peak memory (ru_maxrss) is its own. Peak memory is mostly GDAL's block
cache (GDAL_CACHEMAX, by default 5 % of the RAM), so it is bounded whatever the raster size.
Run with `make bench`.
"""

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(REPO, 'build', 'bench_evaluate')
LABEL = os.path.join(REPO, 'tests', 'data', 'oncloudn', 'kgvd.tif')
SIZE = 10980
CONFIGS = [  # (label, ground truth, block size, environment)
    ('same grid, block 512', 'truth.tif', 512, {}),
    ('same grid, block 1024', 'truth.tif', 1024, {}),
    ('same grid, block 512, GDAL_CACHEMAX=64 MB', 'truth.tif', 512, {'GDAL_CACHEMAX': '64'}),
    ('ground truth at 20 m (regridded), block 512', 'truth_20m.tif', 512, {}),
]


def make_inputs():
    """Write the tile-sized prediction and ground truths once (tiled, DEFLATE)."""
    if os.path.exists(os.path.join(WORK, 'truth_20m.tif')):
        return
    os.makedirs(WORK, exist_ok=True)
    source = gdal.Open(LABEL)
    x0, dx, _, y0, _, dy = source.GetGeoTransform()
    label = np.tile(source.ReadAsArray(), (22, 22))[:SIZE, :SIZE]
    for name, array, step in (('prediction.tif', np.roll(label, 7, axis=1), 1),
                              ('truth.tif', label, 1), ('truth_20m.tif', label[::2, ::2], 2)):
        out = gdal.GetDriverByName('GTiff').Create(
            os.path.join(WORK, name), array.shape[1], array.shape[0], 1, gdal.GDT_Byte,
            ['TILED=YES', 'COMPRESS=DEFLATE'])
        out.SetGeoTransform((x0, dx * step, 0, y0, 0, dy * step))
        out.SetProjection(source.GetProjection())
        out.GetRasterBand(1).SetNoDataValue(255)
        out.GetRasterBand(1).WriteArray(array)
        out = None


def run_one(truth, block):
    """Child process: one evaluation with an error map; print JSON figures."""
    sys.path.insert(0, REPO)
    from algorithms.core.evaluation.evaluate import evaluate
    from algorithms.core.evaluation.metrics import PRESETS

    start = time.perf_counter()
    result = evaluate(os.path.join(WORK, 'prediction.tif'), os.path.join(WORK, truth),
                      PRESETS['mask'], PRESETS['mask'],
                      error_map=os.path.join(WORK, 'errors.tif'), block_size=block)
    print(json.dumps({'seconds': time.perf_counter() - start,
                      'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'pixels': result.confusion.total, 'fscore': result.confusion.fscore}))


def main():
    """Print seconds, peak memory and pixel rate per configuration."""
    make_inputs()
    print(f'{SIZE} x {SIZE} mask at 10 m ({SIZE * SIZE / 1e6:.0f} Mpx), error map written')
    for label, truth, block, environment in CONFIGS:
        output = subprocess.run([sys.executable, __file__, truth, str(block)], check=True,
                                capture_output=True, text=True,
                                env={**os.environ, **environment}).stdout
        figures = json.loads(output)
        print(f'  {label}: {figures["seconds"]:.1f} s, peak {figures["peak_mb"]:.0f} MB, '
              f'{figures["pixels"] / figures["seconds"] / 1e6:.1f} Mpx/s, '
              f'F {figures["fscore"]:.4f}')


if __name__ == '__main__':
    if len(sys.argv) == 3:
        run_one(sys.argv[1], int(sys.argv[2]))
    else:
        main()
