"""Regenerate the test fixtures in tests/data from the shared real data (run by hand).

`python tests/tools/make_fixtures.py [detect|inspection|training ...]` (all by default) reads
../shared/data beside the checkout (its README: origin, licence) and writes only under
tests/data. Everything is deterministic: crops at fixed places, windows chosen by fixed rules.

tests/data/detect/
betsiboka_crop_toa13.tif: rows 580-707, cols 0-127 of shared/data/toa/betsiboka_toa13.tif
(real Sentinel-2 L1C TOA reflectance x 10000, 13 bands), written in the stack contract:
Float32 reflectance (DN / 10000), band descriptions 'B01 (443.9 nm)', nodata NaN. The source
has no true georeferencing (about 73 m pixels, approximate EPSG:4326 box); the crop is put on
a 60 m UTM 38S grid at that place so that it passes the 60 m model's resolution check.

oncloudn_jaag_crop_rgbn.tif: rows 128-255, cols 0-127 of the On Cloud N chip jaag
(Senanga, Zambia; shared/data/labelled/oncloudn/features/jaag/B02 B03 B04 B08.tif: Sentinel-2
L2A surface reflectance x 10000, UInt16, 10 m, nodata 0) as one 4-band raster with band
descriptions, values and georeferencing unchanged; its human label is tests/data/oncloudn/jaag.tif
(34 % cloud in this crop). jaag is held out from the rgbn model's training.

tests/data/inspection/
betsiboka_crop64_refl13.tif: rows 370-433, cols 110-173 of shared/data/toa/betsiboka_toa13.tif
(thin and cumulus cloud over land and turbid water), in the stack contract, placed on a 60 m
UTM 38S grid where the source's approximate EPSG:4326 box puts it.

tests/data/training/
* oncloudn/: 48 x 48 pixel windows of two On Cloud N chips (features B02 B03 B04 B08 and
  labels), values unchanged, for the smoke training run.
* l1c13_cloudy.tif, l1c13_clear.tif: 16 x 16 windows of betsiboka_toa13.tif (DN unchanged) in
  the model's held-out region, centred on the pixel farthest from any pixel not labelled cloud
  (resp. clear) by the detector agreement of models/training/agreement.py.
* rgbn_cloudy.tif, rgbn_clear.tif: the same for the human labels of the held-out On Cloud N
  chip jaag (B02 B03 B04 B08 stacked, DN unchanged).
"""

import argparse
import os
import sys

import numpy as np
from osgeo import gdal, osr
from scipy import ndimage

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)  # run as a script: the repository's packages

from algorithms.core.raster_io import create_geotiff  # noqa: E402
from algorithms.core.sentinel2.bands import L1C_BANDS, band_description  # noqa: E402
from models.training import datasets  # noqa: E402
from models.training.agreement import agreement_labels  # noqa: E402
from models.training.sources import BETSIBOKA, SHARED_DATA, read_betsiboka  # noqa: E402

SOURCE = os.path.join(SHARED_DATA, 'toa', 'betsiboka_toa13.tif')
FIXTURES = os.path.join(REPO, 'tests', 'data')
DETECT_TARGET = os.path.join(FIXTURES, 'detect', 'betsiboka_crop_toa13.tif')
ROW, COL, SIZE = 580, 0, 128
INSPECTION_TARGET = os.path.join(FIXTURES, 'inspection', 'betsiboka_crop64_refl13.tif')
INSPECTION_ROW, INSPECTION_COL, INSPECTION_SIZE = 370, 110, 64
TRAINING_TARGET = os.path.join(FIXTURES, 'training')
ONCLOUDN = os.path.join(SHARED_DATA, 'labelled', 'oncloudn')
SMOKE_CHIPS = {'adwu': (0, 8), 'jaag': (224, 344)}  # chip: (row, col) of the window
RGBN_PATCHES = {'rgbn_cloudy.tif': 'jaag', 'rgbn_clear.tif': 'jaag'}


def write_crop(target, row, col, size, origin):
    """Write rows/cols [row, row + size) x [col, col + size) of SOURCE on a 60 m UTM 38S grid.

    Args:
        target: GeoTIFF to write.
        row, col, size: the crop in the source.
        origin: (x, y) of the crop's upper-left corner in UTM 38S, on the 60 m grid.
    """
    source = gdal.Open(SOURCE)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32738)
    dataset = create_geotiff(target, size, size, 13, gdal.GDT_Float32,
                             (origin[0], 60.0, 0.0, origin[1], 0.0, -60.0), srs.ExportToWkt(),
                             nodata=float('nan'))
    for index, band in enumerate(L1C_BANDS, start=1):
        values = source.GetRasterBand(index).ReadAsArray(col, row, size, size)
        out = dataset.GetRasterBand(index)
        out.WriteArray(values.astype(np.float32) / 10000)
        out.SetDescription(band_description(band))
    dataset.SetMetadataItem('SOURCE', f'betsiboka_toa13.tif rows {row}-{row + size - 1} cols '
                            f'{col}-{col + size - 1} (s2cloudless 1.2.1 test input, '
                            'CC-BY-SA-4.0); contains modified Copernicus Sentinel data')
    dataset = None


def write_rgbn_crop(target, chip='jaag', row=128, col=0, size=128):
    """Write a crop of an On Cloud N chip's B02 B03 B04 B08 as one described 4-band raster."""
    folder = os.path.join(os.path.dirname(os.path.dirname(SOURCE)), 'labelled', 'oncloudn',
                          'features', chip)
    bands = ('B02', 'B03', 'B04', 'B08')
    first = gdal.Open(os.path.join(folder, 'B02.tif'))
    x0, dx, _, y0, _, dy = first.GetGeoTransform()
    dataset = create_geotiff(target, size, size, 4, gdal.GDT_UInt16,
                             (x0 + col * dx, dx, 0.0, y0 + row * dy, 0.0, dy),
                             first.GetProjection(), nodata=0)
    for index, band in enumerate(bands, start=1):
        values = gdal.Open(os.path.join(folder, f'{band}.tif')).ReadAsArray(col, row, size, size)
        dataset.GetRasterBand(index).WriteArray(values)
        dataset.GetRasterBand(index).SetDescription(band_description(band))
    dataset.SetMetadataItem('SOURCE', f'On Cloud N chip {chip} rows {row}-{row + size - 1} cols '
                            f'{col}-{col + size - 1} (CC BY 4.0); contains modified Copernicus '
                            'Sentinel data')
    dataset = None


def detect_fixtures():
    """tests/data/detect/."""
    # UTM 38S near 46.16 E, 15.97 S, on the 60 m grid.
    write_crop(DETECT_TARGET, ROW, COL, SIZE, (517020.0, 8277660.0))
    write_rgbn_crop(os.path.join(os.path.dirname(DETECT_TARGET), 'oncloudn_jaag_crop_rgbn.tif'))


def inspection_fixtures():
    """tests/data/inspection/."""
    x0, dx, _, y0, _, dy = gdal.Open(SOURCE).GetGeoTransform()
    wgs84, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm.ImportFromEPSG(32738)
    east, north, _ = osr.CoordinateTransformation(wgs84, utm).TransformPoint(
        x0 + INSPECTION_COL * dx, y0 + INSPECTION_ROW * dy)
    write_crop(INSPECTION_TARGET, INSPECTION_ROW, INSPECTION_COL, INSPECTION_SIZE,
               (60.0 * round(east / 60), 60.0 * round(north / 60)))


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


def training_fixtures():
    """tests/data/training/."""
    for chip, (row, col) in SMOKE_CHIPS.items():
        for band in datasets.ONCLOUDN_BANDS:
            _window(os.path.join(ONCLOUDN, 'features', chip, f'{band}.tif'),
                    os.path.join(TRAINING_TARGET, 'oncloudn', 'features', chip, f'{band}.tif'),
                    row, col, 48)
        _window(os.path.join(ONCLOUDN, 'labels', f'{chip}.tif'),
                os.path.join(TRAINING_TARGET, 'oncloudn', 'labels', f'{chip}.tif'), row, col, 48)
    betsiboka = os.path.join(SHARED_DATA, *BETSIBOKA)
    labels, _ = agreement_labels(read_betsiboka())
    cut = datasets.split_column(labels, 0.25)
    for name, value in (('l1c13_cloudy.tif', 1), ('l1c13_clear.tif', 0)):
        row, col = _deepest_window(labels, value, first_col=cut)
        print(name, 'betsiboka rows', row, row + 15, 'cols', col, col + 15)
        _window(betsiboka, os.path.join(TRAINING_TARGET, name), row, col, 16)
    for name, chip in RGBN_PATCHES.items():
        human = gdal.Open(os.path.join(ONCLOUDN, 'labels', f'{chip}.tif')).ReadAsArray()
        row, col = _deepest_window(human, 1 if 'cloudy' in name else 0)
        print(name, chip, 'rows', row, row + 15, 'cols', col, col + 15)
        bands = [os.path.join(ONCLOUDN, 'features', chip, f'{b}.tif')
                 for b in datasets.ONCLOUDN_BANDS]
        stacked = gdal.BuildVRT('', bands, separate=True)
        _window(stacked, os.path.join(TRAINING_TARGET, name), row, col, 16)
        written = gdal.Open(os.path.join(TRAINING_TARGET, name), gdal.GA_Update)
        for index, band in enumerate(datasets.ONCLOUDN_BANDS, start=1):
            written.GetRasterBand(index).SetDescription(band)
        written = None


GENERATORS = {'detect': detect_fixtures, 'inspection': inspection_fixtures,
              'training': training_fixtures}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('which', nargs='*', help=f'any of {", ".join(GENERATORS)} (default: all)')
    which = parser.parse_args().which or list(GENERATORS)
    unknown = sorted(set(which) - set(GENERATORS))
    if unknown:
        parser.error(f'unknown fixtures {unknown}; choose from {list(GENERATORS)}')
    for name in which:
        GENERATORS[name]()


if __name__ == '__main__':
    main()
