"""Seed polygons burned onto the image grid, and the checks that they can train a forest."""

from dataclasses import dataclass
from typing import Optional

import numpy as np
from osgeo import gdal, ogr, osr

from .. import grid
from ..errors import SeedError
from .classes import CLASS_NAMES, CLEAR_CLASSES, CLOUD_CLASSES, class_code

Seed = tuple[object, str, object]  # (feature id, WKT polygon, class code or name)


@dataclass(frozen=True)
class SeedPolygons:
    """Seed polygons and their CRS (None: the raster's); they are reprojected onto it."""

    polygons: tuple[Seed, ...]
    crs: Optional[str] = None


def rasterize_seeds(seeds: SeedPolygons, geotransform: tuple, projection: str,
                    valid: np.ndarray) -> np.ndarray:
    """Burn seed polygons into a uint8 class raster (0 = no seed) on the image grid.

    A pixel belongs to a polygon when its centre lies inside (GDAL's rule); pixels without
    data are left out of every seed. Polygons in another CRS are reprojected first.

    Raises:
        SeedError: a class is unknown, a polygon lies outside the raster or covers no valid
            pixel, or polygons of two classes overlap.

    """
    burned = np.zeros(valid.shape, np.uint8)
    srs = grid.spatial_reference(projection) if projection else None
    transform = _transform(seeds.crs, srs)
    for fid, wkt, value in seeds.polygons:
        code = class_code(value)
        geometry = ogr.CreateGeometryFromWkt(wkt)
        if geometry is None:
            raise SeedError(f'seed polygon {fid} has no readable geometry; draw it again')
        if transform is not None:
            geometry.Transform(transform)
        window = _pixel_window(geometry.GetEnvelope(), geotransform, valid.shape)
        if window is None:
            raise SeedError(f'seed polygon {fid} ({CLASS_NAMES[code]}) lies outside the raster; '
                            'move it onto the image')
        r0, r1, c0, c1 = window
        inside = _burn(geometry, srs, geotransform, window) & valid[r0:r1, c0:c1]
        if not inside.any():
            raise SeedError(f'seed polygon {fid} ({CLASS_NAMES[code]}) covers no valid pixel '
                            '(no data there, or smaller than a pixel); move or enlarge it')
        part = burned[r0:r1, c0:c1]
        clash = sorted(set(np.unique(part[inside]).tolist()) - {0, code})
        if clash:
            raise SeedError(f'seed polygon {fid} ({CLASS_NAMES[code]}) overlaps seeds of '
                            f'{", ".join(CLASS_NAMES[c] for c in clash)}; a pixel can have one '
                            'class only')
        part[inside] = code
    return burned


def _transform(crs, target):
    """The OGR transformation from the seeds' CRS to the raster's, None when the same."""
    if not crs or target is None:
        return None
    source = grid.spatial_reference(crs)
    if source.IsSame(target):
        return None
    return osr.CoordinateTransformation(source, target)


def _burn(geometry, srs, geotransform, window):
    r0, r1, c0, c1 = window
    target = gdal.GetDriverByName('MEM').Create('', c1 - c0, r1 - r0, 1, gdal.GDT_Byte)
    target.SetGeoTransform((geotransform[0] + c0 * geotransform[1], geotransform[1], 0,
                            geotransform[3] + r0 * geotransform[5], 0, geotransform[5]))
    source = ogr.GetDriverByName('Memory').CreateDataSource('')  # must outlive the layer
    layer = source.CreateLayer('seed', srs)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(geometry)
    layer.CreateFeature(feature)
    gdal.RasterizeLayer(target, [1], layer, burn_values=[1])
    return target.ReadAsArray().astype(bool)


def _pixel_window(envelope, geotransform, shape):
    """Rows and columns (r0, r1, c0, c1) of the raster an envelope touches, or None."""
    west, east, south, north = envelope
    c0 = int(np.floor((west - geotransform[0]) / geotransform[1]))
    c1 = int(np.ceil((east - geotransform[0]) / geotransform[1]))
    r0 = int(np.floor((north - geotransform[3]) / geotransform[5]))
    r1 = int(np.ceil((south - geotransform[3]) / geotransform[5]))
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(max(r1, r0 + 1), shape[0]), min(max(c1, c0 + 1), shape[1])
    return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None


def check_seeds(seeds: np.ndarray, min_pixels: int) -> dict:
    """Seed pixel count per class; raise SeedError unless they can train cloud vs clear.

    Raises:
        SeedError: no seed, a class with fewer than `min_pixels` pixels, or no cloud class or
            no clear class among the seeds.

    """
    counts = {code: int((seeds == code).sum()) for code in CLASS_NAMES}
    counts = {code: count for code, count in counts.items() if count}
    if not counts:
        raise SeedError('no seed pixel: give seed polygons over the image')
    few = {CLASS_NAMES[c]: n for c, n in counts.items() if n < min_pixels}
    if few:
        raise SeedError('too few seed pixels: ' + ', '.join(f'{k} {v}' for k, v in few.items())
                        + f' (at least {min_pixels} per class); draw larger or more polygons '
                        'of those classes, or lower the minimum')
    if not (set(counts) & set(CLOUD_CLASSES)) or not (set(counts) & set(CLEAR_CLASSES)):
        raise SeedError('the seeds need at least one cloud class (2 opaque, 3 thin) and one '
                        'clear class (4 shadow, 5 land, 6 water, 7 snow); they hold only '
                        + ', '.join(CLASS_NAMES[c] for c in counts))
    return counts
