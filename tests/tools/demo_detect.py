"""`make demo`: detect clouds in a bundled real L1C product through qgis_process, draw a quick-look.

The product is tile 32UPV of 2017-04-30 (tests/data/l1c/): cumulus over farmland in a strip at
the swath edge. Detection gets the zipped product itself (it is stacked to 60 m on the fly);
the extent is the strip's bounding box, so stacking decodes only that part of the JPEG2000s.
A second qgis_process call stacks the same area for the quick-look's colours.
"""

import os
import shlex
import sys

import matplotlib
from conftest import REPO, data_path
from conftest import qgis_process as run_qgis_process

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from osgeo import gdal  # noqa: E402

PRODUCT = data_path('l1c',
                    'S2A_MSIL1C_20170430T103021_N0205_R108_T32UPV_20170430T103024.SAFE.zip')
EXTENT = '600000,609240,5468520,5500020 [EPSG:32632]'  # the imaged strip, 154 x 525 px at 60 m
OUT = os.path.join(REPO, 'build', 'demo')


def qgis_process(*args):
    """Run qgis_process the way the README shows (make qgis_process), echoing its log."""
    print('$ qgis_process', ' '.join(shlex.quote(str(a)) for a in args), flush=True)
    done = run_qgis_process(*args, check=False, timeout=None)
    log = [line for line in done.stdout.splitlines() if line and not line.startswith('-')]
    print('\n'.join(f'  {line}' for line in log[-12:]))
    if done.returncode:
        sys.exit(f'qgis_process failed:\n{done.stderr[-3000:]}')


def quick_look(stack, mask, probability, path):
    """Save RGB | RGB with the cloud mask over it | probability, side by side."""
    bands = gdal.Open(stack)
    rgb = np.dstack([bands.GetRasterBand(b).ReadAsArray() for b in (4, 3, 2)])
    rgb = np.clip(np.nan_to_num(rgb) / 0.3, 0, 1)
    cloud = gdal.Open(mask).ReadAsArray()
    prob = gdal.Open(probability).ReadAsArray()
    overlay = rgb.copy()
    overlay[cloud == 1] = 0.5 * overlay[cloud == 1] + 0.5 * np.array([1.0, 0.0, 1.0])
    valid = cloud != 255
    figure, axes = plt.subplots(1, 3, figsize=(9, 10))
    axes[0].imshow(rgb)
    axes[0].set_title('RGB (B04 B03 B02), 60 m')
    axes[1].imshow(overlay)
    axes[1].set_title(f'cloud mask (magenta): {np.mean(cloud[valid] == 1):.1%}')
    shown = axes[2].imshow(np.ma.masked_invalid(prob), vmin=0, vmax=1, cmap='viridis')
    axes[2].set_title('P(cloud)')
    figure.colorbar(shown, ax=axes[2], fraction=0.05)
    for axis in axes:
        axis.set_axis_off()
    figure.suptitle('T32UPV 2017-04-30, swath-edge strip (Contains modified Copernicus '
                    'Sentinel data)', fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    """Run detection and stacking through qgis_process, then draw and print the outputs."""
    os.makedirs(OUT, exist_ok=True)
    mask, probability, stack, png = (os.path.join(OUT, name) for name in (
        'T32UPV_cloud_mask.tif', 'T32UPV_cloud_probability.tif', 'T32UPV_stack_60m.tif',
        'T32UPV_quicklook.png'))
    qgis_process('run', 's2cloudcnn:detectclouds', '--', f'PRODUCT={PRODUCT}',
                 f'EXTENT={EXTENT}', f'OUTPUT={mask}', f'PROBABILITY={probability}')
    qgis_process('run', 's2cloudcnn:stackl1c', '--', f'INPUT={PRODUCT}', f'EXTENT={EXTENT}',
                 f'OUTPUT={stack}')
    quick_look(stack, mask, probability, png)
    print('\nDemo outputs:')
    for path in (mask, os.path.splitext(mask)[0] + '.qml', probability, stack, png):
        print(f'  {path}')


if __name__ == '__main__':
    main()
