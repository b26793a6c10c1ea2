"""Regenerate tests/data/detect/ from the project's shared real data (run once, by hand).

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
"""

import os
import sys

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from algorithms.core.bands import L1C_BANDS, band_description  # noqa: E402
from algorithms.core.raster_io import create_geotiff  # noqa: E402

SOURCE = '/work/shared/data/toa/betsiboka_toa13.tif'
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'detect',
                      'betsiboka_crop_toa13.tif')
ROW, COL, SIZE = 580, 0, 128


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


def main():
    # UTM 38S near 46.16 E, 15.97 S, on the 60 m grid.
    write_crop(TARGET, ROW, COL, SIZE, (517020.0, 8277660.0))
    write_rgbn_crop(os.path.join(os.path.dirname(TARGET), 'oncloudn_jaag_crop_rgbn.tif'))


if __name__ == '__main__':
    main()
