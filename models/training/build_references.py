"""Rebuild the ALCD-style references of the free scenes from their committed seeds.

Example: python -m models.training.build_references   (writes models/training/references/)

Each scene's seeds (<scene>_seeds.geojson) were drawn by eye on rendered views (ROUNDS.md);
the reference is built with the plugin's own builder (core/reference, default options) and its
reserved pixels are set to 0 (no data), so no reference class ever sits on one.
"""

import argparse
import os

from osgeo import gdal, ogr

from algorithms.core.reference.build import ReferenceOutputs, build_reference
from algorithms.core.reference.seeds import SeedPolygons
from models.training import reserved, sources
from models.training.config import REPO, default_data_root

REFERENCES = os.path.join(REPO, 'models', 'training', 'references')


def read_seeds(path):
    """SeedPolygons of a seed file (any OGR format with a 'class' field)."""
    source = ogr.Open(path)
    layer = source.GetLayer()
    srs = layer.GetSpatialRef()
    polygons = tuple((f.GetFID(), f.GetGeometryRef().ExportToWkt(), f.GetField('class'))
                     for f in layer)
    return SeedPolygons(polygons, srs.ExportToWkt() if srs else None)


def scene_rasters(data):
    """(scene name, raster to build on, reserved mask or None) of each free scene."""
    betsiboka = os.path.join(data, *sources.BETSIBOKA)
    yield 'betsiboka', betsiboka, reserved.betsiboka_reserved(data)
    for name, stack in sources.free_l1c_stacks(data):
        yield name, stack, None


def main(argv=None):
    """Build every reference; print seeds, out-of-bag accuracy and classes per scene."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default=default_data_root())
    args = parser.parse_args(argv)
    for name, raster, mask in scene_rasters(args.data):
        path = os.path.join(REFERENCES, f'{name}_reference.tif')
        seeds = read_seeds(os.path.join(REFERENCES, f'{name}_seeds.geojson'))
        result = build_reference(raster, seeds, ReferenceOutputs(path))
        if mask is not None:
            dataset = gdal.Open(path, gdal.GA_Update)
            classes = dataset.GetRasterBand(1).ReadAsArray()
            classes[mask] = 0
            dataset.GetRasterBand(1).WriteArray(classes)
            dataset = None
        print(f'{name}: seeds {result.seed_pixels}, out-of-bag {result.oob_accuracy:.4f}, '
              f'classes {result.class_pixels} (before reserved pixels are removed)', flush=True)


if __name__ == '__main__':
    main()
