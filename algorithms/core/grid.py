"""Raster grids, rasterio style: windows, their transforms and tiling, boxes on grids and CRSs.

A box is (xmin, ymin, xmax, ymax) in some CRS; a geotransform is GDAL's six numbers; a CRS is
anything osr.SpatialReference.SetFromUserInput reads (WKT, 'EPSG:32632', PROJ).
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from osgeo import osr

Box = tuple  # (xmin, ymin, xmax, ymax)
_EDGE = 1e-9  # a coordinate within this many pixels of a pixel edge is on it
DENSIFY_POINTS = 21  # points per box edge when reprojecting: edges curve in the target CRS


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: column/row offset and size."""

    col: int
    row: int
    width: int
    height: int


def iter_windows(width: int, height: int, block_width: int = 512,
                 block_height: int = 512) -> Iterator[Window]:
    """Yield windows tiling a width x height grid row by row, edge blocks clipped.

    Raises:
        ValueError: if a size is not positive.
    """
    if min(width, height, block_width, block_height) <= 0:
        raise ValueError('grid and block sizes must be positive')
    for row in range(0, height, block_height):
        for col in range(0, width, block_width):
            yield Window(col, row, min(block_width, width - col), min(block_height, height - row))


def bounds(geotransform: tuple, width: int, height: int) -> Box:
    """The box a width x height raster with `geotransform` covers (north-up or not)."""
    x0, dx, _, y0, _, dy = geotransform
    xs, ys = (x0, x0 + dx * width), (y0, y0 + dy * height)
    return min(xs), min(ys), max(xs), max(ys)


def intersection(first: Box, second: Box) -> Optional[Box]:
    """The overlap of two boxes in one CRS, or None when they only touch or are apart."""
    box = (max(first[0], second[0]), max(first[1], second[1]),
           min(first[2], second[2]), min(first[3], second[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def from_bounds(geotransform: tuple, box: Box, width: int, height: int) -> Optional[Window]:
    """The window of whole pixels covering `box`, clipped to the raster; None if apart."""
    x0, dx, _, y0, _, dy = geotransform
    xmin, ymin, xmax, ymax = box
    cols = sorted(((xmin - x0) / dx, (xmax - x0) / dx))
    rows = sorted(((ymax - y0) / dy, (ymin - y0) / dy))
    col0, row0 = max(math.floor(cols[0] + _EDGE), 0), max(math.floor(rows[0] + _EDGE), 0)
    col1, row1 = min(math.ceil(cols[1] - _EDGE), width), min(math.ceil(rows[1] - _EDGE), height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def window_transform(geotransform: tuple, window: Window) -> tuple:
    """The geotransform of `window` of a raster with `geotransform`."""
    x0, dx, rx, y0, ry, dy = geotransform
    return (x0 + window.col * dx + window.row * rx, dx, rx,
            y0 + window.col * ry + window.row * dy, ry, dy)


def snap_to_grid(box: Box, origin: tuple, resolution: float) -> tuple:
    """(geotransform, width, height) of the grid through `origin` (x, y) that covers `box`.

    The grid is north-up with square pixels of `resolution`; the box is snapped outward and
    the result has at least one pixel.
    """
    origin_x, origin_y = origin
    left = origin_x + math.floor((box[0] - origin_x) / resolution + _EDGE) * resolution
    top = origin_y - math.floor((origin_y - box[3]) / resolution + _EDGE) * resolution
    width = max(1, math.ceil((box[2] - left) / resolution - _EDGE))
    height = max(1, math.ceil((top - box[1]) / resolution - _EDGE))
    return (left, resolution, 0.0, top, 0.0, -resolution), width, height


def spatial_reference(crs) -> osr.SpatialReference:
    """An osr.SpatialReference of `crs` (text or SpatialReference), x = east / longitude."""
    srs = crs.Clone() if isinstance(crs, osr.SpatialReference) else osr.SpatialReference()
    if not isinstance(crs, osr.SpatialReference):
        srs.SetFromUserInput(crs)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def reproject_box(box: Box, source_crs, target_crs) -> Box:
    """The bounding box in `target_crs` of `box` given in `source_crs` (edges densified).

    Raises:
        RuntimeError: from PROJ, when the box cannot be expressed in the target CRS.
    """
    source, target = spatial_reference(source_crs), spatial_reference(target_crs)
    if source.IsSame(target):
        return tuple(box)
    return transform_box(box, osr.CoordinateTransformation(source, target))


def transform_box(box: Box, transform, points: int = DENSIFY_POINTS) -> Box:
    """Return the bounding box of a box's edges after an osr.CoordinateTransformation.

    Each edge is sampled at `points` points, as a straight edge in one CRS curves in another.

    Args:
        box: (xmin, ymin, xmax, ymax) in the transformation's source CRS.
        transform: the osr.CoordinateTransformation to the target CRS.
        points: samples per edge, corners included (2 = the corners only).

    Returns:
        (xmin, ymin, xmax, ymax) in the target CRS.
    """
    xmin, ymin, xmax, ymax = box
    steps = [k / (points - 1) for k in range(points)]
    xs_edge = [xmin + (xmax - xmin) * t for t in steps]
    ys_edge = [ymin + (ymax - ymin) * t for t in steps]
    outline = ([(x, y) for x in xs_edge for y in (ymin, ymax)]
               + [(x, y) for y in ys_edge for x in (xmin, xmax)])
    xs, ys = zip(*(transform.TransformPoint(x, y)[:2] for x, y in outline))
    return min(xs), min(ys), max(xs), max(ys)
