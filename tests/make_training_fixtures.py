"""Regenerate tests/data/training/ from the shared real data (run by hand; see its README entry).

* oncloudn/: 48 x 48 pixel windows of two On Cloud N chips (features B02 B03 B04 B08 and
  labels), values unchanged, for the smoke training run.
* l1c13_cloudy.tif, l1c13_clear.tif: 16 x 16 windows of betsiboka_toa13.tif (DN unchanged) in
  the model's held-out region, centred on the pixel farthest from any pixel not labelled cloud
  (resp. clear) by the detector agreement of models/training/agreement.py.
* rgbn_cloudy.tif, rgbn_clear.tif: the same for the human labels of the held-out On Cloud N
  chip jaag (B02 B03 B04 B08 stacked, DN unchanged).
"""

import os
import sys

import numpy as np
from osgeo import gdal
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models.training import datasets  # noqa: E402
from models.training.agreement import agreement_labels  # noqa: E402
from models.training.sources import BETSIBOKA, SHARED_DATA, read_betsiboka  # noqa: E402

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'training')
ONCLOUDN = os.path.join(SHARED_DATA, 'labelled', 'oncloudn')
SMOKE_CHIPS = {'adwu': (0, 8), 'jaag': (224, 344)}  # chip: (row, col) of the window
RGBN_PATCHES = {'rgbn_cloudy.tif': 'jaag', 'rgbn_clear.tif': 'jaag'}


def _window(source, target, row, col, size):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    gdal.Translate(target, source, srcWin=[col, row, size, size],
                   creationOptions=['COMPRESS=DEFLATE'])


def _deepest_window(labels, value, first_col=0, size=16):
    """Top-left of the window centred on the pixel farthest from any pixel not `value`."""
    depth = ndimage.distance_transform_edt(labels == value)
    half = size // 2
    depth[:half], depth[-half:], depth[:, :max(half, first_col + half)] = 0, 0, 0
    depth[:, -half:] = 0
    row, col = np.unravel_index(np.argmax(depth), depth.shape)
    return int(row) - half, int(col) - half


def main():
    for chip, (row, col) in SMOKE_CHIPS.items():
        for band in datasets.ONCLOUDN_BANDS:
            _window(os.path.join(ONCLOUDN, 'features', chip, f'{band}.tif'),
                    os.path.join(TARGET, 'oncloudn', 'features', chip, f'{band}.tif'),
                    row, col, 48)
        _window(os.path.join(ONCLOUDN, 'labels', f'{chip}.tif'),
                os.path.join(TARGET, 'oncloudn', 'labels', f'{chip}.tif'), row, col, 48)
    betsiboka = os.path.join(SHARED_DATA, *BETSIBOKA)
    labels, _ = agreement_labels(read_betsiboka())
    cut = datasets.split_column(labels, 0.25)
    for name, value in (('l1c13_cloudy.tif', 1), ('l1c13_clear.tif', 0)):
        row, col = _deepest_window(labels, value, first_col=cut)
        print(name, 'betsiboka rows', row, row + 15, 'cols', col, col + 15)
        _window(betsiboka, os.path.join(TARGET, name), row, col, 16)
    for name, chip in RGBN_PATCHES.items():
        human = gdal.Open(os.path.join(ONCLOUDN, 'labels', f'{chip}.tif')).ReadAsArray()
        row, col = _deepest_window(human, 1 if 'cloudy' in name else 0)
        print(name, chip, 'rows', row, row + 15, 'cols', col, col + 15)
        bands = [os.path.join(ONCLOUDN, 'features', chip, f'{b}.tif')
                 for b in datasets.ONCLOUDN_BANDS]
        stacked = gdal.BuildVRT('', bands, separate=True)
        _window(stacked, os.path.join(TARGET, name), row, col, 16)
        written = gdal.Open(os.path.join(TARGET, name), gdal.GA_Update)
        for index, band in enumerate(datasets.ONCLOUDN_BANDS, start=1):
            written.GetRasterBand(index).SetDescription(band)
        written = None


if __name__ == '__main__':
    main()
