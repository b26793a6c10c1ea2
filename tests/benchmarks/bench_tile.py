"""Benchmark: a fully imaged 10980 x 10980 L1C tile end to end (stack, detect); not a test.

The tile (full_tile.py, built once under build/bench/) has real content in all 13 band JP2s,
written like ESA's. Every measurement is its own process, so its peak memory (ru_maxrss) and CPU
time (getrusage) are its own. The reference is a plain exact gdal.Warp of the same 13 JP2s to the
60 m grid (resampleAlg='average', overviewLevel='NONE', GDAL's defaults otherwise), run in the
same `make bench`; ratios compare figures of this one run.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPO, 'models', 's2cloudcnn-l1c13.onnx')
TARGET_RATIO = 0.5  # exact stacking against the plain exact warp
PEAK_LIMIT_MB = 1024


def _figures(start, **extra):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {'seconds': time.perf_counter() - start, 'cpu': usage.ru_utime + usage.ru_stime,
            'peak_mb': usage.ru_maxrss / 1024, **extra}


def run_stack(product, output, decode_level):
    """Child: stack the tile; the time spent in JPEG2000 reads is summed (the decode share)."""
    from algorithms.core.sentinel2 import resample
    from algorithms.core.sentinel2.stack import StackOptions, stack_l1c

    decode = [0.0]
    original = resample.read_boundless

    def timed_read(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            decode[0] += time.perf_counter() - begin
    resample.read_boundless = timed_read
    start = time.perf_counter()
    result = stack_l1c(product, output, StackOptions(decode_level=int(decode_level)))
    return _figures(start, decode=decode[0], valid=result.valid_fraction)


def run_detect(stack, output):
    """Child: detect clouds on the stack with the default model and options."""
    from algorithms.core.detection.detect import detect_clouds

    start = time.perf_counter()
    result = detect_clouds(stack, output, MODEL)
    return _figures(start, cloud=result.cloud_fraction)


def run_warp(product, folder):
    """Child: the plain exact gdal.Warp of each band JP2 to the tile's 60 m grid."""
    from osgeo import gdal

    from algorithms.core.sentinel2.product import open_product

    gdal.UseExceptions()
    start = time.perf_counter()
    for band, (path,) in open_product(product).band_files[32632].items():
        gdal.Warp(os.path.join(folder, f'{band}.tif'), path, xRes=60, yRes=60,
                  resampleAlg='average', overviewLevel='NONE')
    return _figures(start)


def child(*args):
    """Run one measurement in a fresh process; return its figures."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          cwd=REPO)
    if done.returncode:
        raise SystemExit(f'{args[0]} failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(label, figures):
    share = f', JPEG2000 reads {figures["decode"] / figures["seconds"]:.0%} of wall' \
        if 'decode' in figures else ''
    return (f'{label:<44} {figures["seconds"]:6.1f} s wall {figures["cpu"]:6.1f} s CPU '
            f'peak {figures["peak_mb"]:5.0f} MB{share}')


def run_compare(exact_stack, exact_mask, reduced_stack, reduced_mask):
    """Child: deviation of the reduced-level stack and mask from the exact ones."""
    import numpy as np
    from osgeo import gdal

    from algorithms.core.sentinel2.bands import L1C_BANDS

    def read(path):
        return gdal.Open(path).ReadAsArray()

    exact, reduced = read(exact_stack).astype(np.float64), read(reduced_stack)
    deviations = {}
    for index, band in enumerate(L1C_BANDS):
        diff = np.abs(reduced[index] - exact[index])
        diff = diff[np.isfinite(diff)]
        if diff.max() > 0:
            deviations[band] = [float(diff.mean()), float(np.percentile(diff, 99)),
                                float(diff.mean() / np.nanmean(exact[index]))]
    exact_mask, reduced_mask = read(exact_mask), read(reduced_mask)
    valid, both = exact_mask != 255, (exact_mask == 1) & (reduced_mask == 1)
    return {'bands': deviations, 'same_nodata': bool(np.array_equal(np.isnan(exact[0]),
                                                                     np.isnan(reduced[0]))),
            'mask_agreement': float((exact_mask == reduced_mask)[valid].mean()),
            'clouds_kept': float(both.sum() / (exact_mask == 1).sum()),
            'clouds_added': float(((reduced_mask == 1) & ~both).sum() / (exact_mask == 1).sum())}


def main():
    """Build the tile once, then time warp, stack and detect in one run and print ratios."""
    from full_tile import full_tile

    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), 'full_tile.py')],
                   check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    product = full_tile()
    print(f'Fully imaged tile {os.path.basename(product)} (real 2015 strip content, lossless '
          f'JPEG2000); {os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.1f}')
    with tempfile.TemporaryDirectory(dir=os.path.join(REPO, 'build', 'bench')) as folder:
        paths = {name: os.path.join(folder, f'{name}.tif')
                 for name in ('stack', 'mask', 'stack_level1', 'mask_level1')}
        warp = child('warp', product, folder)
        ours = child('stack', product, paths['stack'], '0')
        detect = child('detect', paths['stack'], paths['mask'])
        reduced = child('stack', product, paths['stack_level1'], '1')
        reduced_detect = child('detect', paths['stack_level1'], paths['mask_level1'])
        deviation = child('compare', *paths.values())
    print(_line('plain exact gdal.Warp, 13 JP2s', warp))
    print(_line(f'stack, exact ({ours["valid"]:.1%} valid)', ours))
    print(_line(f'detect on the stack ({detect["cloud"]:.1%} cloud)', detect))
    print(_line('stack, 10 m bands decoded at level 1', reduced))
    print(_line(f'detect on that stack ({reduced_detect["cloud"]:.1%} cloud)', reduced_detect))
    end_to_end = ours['seconds'] + detect['seconds']
    peak = max(ours['peak_mb'], detect['peak_mb'])
    print(f'exact: end to end (stack + detect) {end_to_end:.1f} s; stack / warp = '
          f'{ours["seconds"] / warp["seconds"]:.2f} wall, {ours["cpu"] / warp["cpu"]:.2f} CPU '
          f'(target <= {TARGET_RATIO}); peak {peak:.0f} MB (target < {PEAK_LIMIT_MB} MB)')
    print(f'level 1: stack / warp = {reduced["seconds"] / warp["seconds"]:.2f} wall, '
          f'{reduced["cpu"] / warp["cpu"]:.2f} CPU; deviation from the exact area mean:')
    for band, (mean, p99, share) in deviation['bands'].items():
        print(f'  {band}: mean |diff| {mean:.4f} ({share:.1%} of its mean reflectance), '
              f'99th percentile {p99:.4f}')
    print(f'  same no-data pixels: {deviation["same_nodata"]}; cloud mask agreement on valid '
          f'pixels {deviation["mask_agreement"]:.2%}; of the exact cloud pixels '
          f'{deviation["clouds_kept"]:.1%} kept, plus {deviation["clouds_added"]:.1%} new; '
          f'load average after {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    COMMANDS = {'stack': run_stack, 'detect': run_detect, 'warp': run_warp,
                'compare': run_compare}
    if len(sys.argv) > 1:
        print(json.dumps(COMMANDS[sys.argv[1]](*sys.argv[2:])))
    else:
        main()
