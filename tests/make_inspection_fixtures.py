"""Regenerate tests/data/inspection/ from the project's shared real data (run once, by hand).

betsiboka_crop64_refl13.tif: rows 370-433, cols 110-173 of shared/data/toa/betsiboka_toa13.tif
(thin and cumulus cloud over land and turbid water), in the stack contract, placed on a 60 m
UTM 38S grid where the source's approximate EPSG:4326 box puts it (see make_detect_fixtures).
"""

import os

from make_detect_fixtures import SOURCE, write_crop
from osgeo import gdal, osr

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'inspection',
                      'betsiboka_crop64_refl13.tif')
ROW, COL, SIZE = 370, 110, 64


def main():
    x0, dx, _, y0, _, dy = gdal.Open(SOURCE).GetGeoTransform()
    wgs84, utm = osr.SpatialReference(), osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm.ImportFromEPSG(32738)
    east, north, _ = osr.CoordinateTransformation(wgs84, utm).TransformPoint(
        x0 + COL * dx, y0 + ROW * dy)
    write_crop(TARGET, ROW, COL, SIZE, (60.0 * round(east / 60), 60.0 * round(north / 60)))


if __name__ == '__main__':
    main()
