"""Regenerate tests/data/inspection/betsiboka_crop64_refl13.tif from shared real data (by hand).

Rows 370-433, cols 110-173 of shared/data/toa/betsiboka_toa13.tif (real Sentinel-2 L1C TOA
reflectance x 10000, 13 bands), in the stack contract: Float32 reflectance (DN / 10000), band
descriptions 'B01 (443.9 nm)', nodata NaN. The source has no true georeferencing (about 73 m
pixels in an approximate EPSG:4326 box), so the crop is put on a 60 m UTM 38S grid at that
place: the models work at 60 m and check the pixel size.
"""

import os
import sys

import numpy as np
from osgeo import gdal, osr

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from algorithms.core.bands import L1C_BANDS, band_description  # noqa: E402
from algorithms.core.raster_io import create_geotiff  # noqa: E402

SOURCE = '/work/shared/data/toa/betsiboka_toa13.tif'
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'inspection',
                      'betsiboka_crop64_refl13.tif')
ROW, COL, SIZE = 370, 110, 64


def main():
    source = gdal.Open(SOURCE)
    x0, dx, _, y0, _, dy = source.GetGeoTransform()
    wgs84, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    utm.ImportFromEPSG(32738)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    east, north, _ = osr.CoordinateTransformation(wgs84, utm).TransformPoint(
        x0 + COL * dx, y0 + ROW * dy)
    origin = (60.0 * round(east / 60), 60.0 * round(north / 60))
    dataset = create_geotiff(TARGET, SIZE, SIZE, 13, gdal.GDT_Float32,
                             (origin[0], 60.0, 0.0, origin[1], 0.0, -60.0), utm.ExportToWkt(),
                             nodata=float('nan'))
    for index, band in enumerate(L1C_BANDS, start=1):
        values = source.GetRasterBand(index).ReadAsArray(COL, ROW, SIZE, SIZE)
        out = dataset.GetRasterBand(index)
        out.WriteArray(values.astype(np.float32) / 10000)
        out.SetDescription(band_description(band))
    dataset.SetMetadataItem('SOURCE', f'betsiboka_toa13.tif rows {ROW}-{ROW + SIZE - 1} cols '
                            f'{COL}-{COL + SIZE - 1} (s2cloudless 1.2.1 test input, CC-BY-SA-4.0)')
    dataset.SetMetadataItem('CONTENT', 'TOA reflectance (unit 1); grid placed at 60 m in UTM 38S')
    dataset = None


if __name__ == '__main__':
    main()
