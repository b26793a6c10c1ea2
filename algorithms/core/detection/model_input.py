"""A raster as a model sees it: bands matched by description, grid checked, padded blocks read."""

import math
import os
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, osr

from .. import grid, raster_io
from ..errors import BandMismatchError, ExtentError, InvalidRasterError
from ..grid import Window
from ..raster_io import uses_gdal_exceptions
from ..sentinel2.bands import canonical_band_name

# Integer rasters hold reflectance x 10000 (L1C DN without offset, as most tools export it).
INTEGER_SCALE = 1e-4
RESOLUTION_TOLERANCE = 0.02  # relative; 60 m grids written by other tools may round


@dataclass
class ModelInput:
    """An open raster whose bands are listed in the model's band order."""

    path: str
    dataset: object
    band_indexes: tuple  # 1-based raster band of each model band
    scale: float
    nodata: tuple  # each model band's nodata value, or None
    width: int
    height: int
    geotransform: tuple
    projection: str


@uses_gdal_exceptions
def open_model_input(path, metadata):
    """Open `path` and match its bands and grid to the model described by `metadata`.

    Raises:
        InvalidRasterError: unreadable raster or a pixel size other than the model's.
        BandMismatchError: the model's bands cannot be found by band description.

    """
    model_input = open_bands(path, metadata.bands)
    check_resolution(model_input.dataset, metadata.resolution_m, os.path.basename(path))
    return model_input


@uses_gdal_exceptions
def open_bands(path, bands):
    """Open `path` and find `bands` (canonical names) by band description; no grid check.

    Raises:
        InvalidRasterError: unreadable raster.
        BandMismatchError: a band cannot be found by band description.

    """
    try:
        dataset = gdal.Open(path)
    except RuntimeError as error:
        raise InvalidRasterError(f'cannot read {path} as a raster: {error}') from error
    indexes = match_bands(_descriptions(dataset), bands, os.path.basename(path))
    raster_bands = [dataset.GetRasterBand(i) for i in indexes]
    integer = raster_bands[0].DataType in raster_io.INTEGER_TYPES
    return ModelInput(path, dataset, tuple(indexes), INTEGER_SCALE if integer else 1.0,
                      tuple(band.GetNoDataValue() for band in raster_bands), dataset.RasterXSize,
                      dataset.RasterYSize, dataset.GetGeoTransform(), dataset.GetProjection())


def _descriptions(dataset):
    return [dataset.GetRasterBand(i).GetDescription() for i in range(1, dataset.RasterCount + 1)]


def match_bands(descriptions, model_bands, name='the raster'):
    """Return the 1-based raster band index of each model band, found by band description.

    Raises:
        BandMismatchError: naming the bands that are missing, unnamed or given twice.

    """
    found = {}
    for index, text in enumerate(descriptions, start=1):
        band = canonical_band_name(text)
        if band in found:
            raise BandMismatchError(f'{name} has band {band} twice (bands {found[band]} and '
                                    f'{index}); give each band once')
        if band:
            found[band] = index
    missing = [band for band in model_bands if band not in found]
    if missing:
        unnamed = len(descriptions) - len(found)
        raise BandMismatchError(
            f'{name} lacks the model bands {", ".join(missing)} (the model needs '
            f'{len(model_bands)} bands {", ".join(model_bands)}; the raster has '
            f'{len(descriptions)} bands, {unnamed} without a band name in their description). '
            "Use the 'Stack L1C bands at 60 m' output, or set band descriptions such as "
            "'B02 (496.6 nm)', or choose a model for these bands")
    return [found[band] for band in model_bands]


def pixel_size_m(dataset):
    """Return the (x, y) pixel size in metres (approximate for geographic coordinates)."""
    transform = dataset.GetGeoTransform()
    size = (abs(transform[1]), abs(transform[5]))
    srs = osr.SpatialReference(wkt=dataset.GetProjection() or '')
    if dataset.GetProjection() and srs.IsGeographic():
        latitude = math.radians(transform[3] + transform[5] * dataset.RasterYSize / 2)
        return size[0] * 111320 * math.cos(latitude), size[1] * 110574
    return size


def check_resolution(dataset, resolution_m, name='the raster'):
    """Raise InvalidRasterError unless the pixel size matches the model's resolution."""
    sizes = pixel_size_m(dataset)
    if any(abs(size - resolution_m) > RESOLUTION_TOLERANCE * resolution_m for size in sizes):
        raise InvalidRasterError(
            f'{name} has {sizes[0]:.4g} x {sizes[1]:.4g} m pixels but the model works at '
            f'{resolution_m:g} m; resample the raster to {resolution_m:g} m (the stacking '
            'algorithm makes 60 m stacks) or choose a model for this resolution')


def extent_window(model_input, extent):
    """Return the Window of whole pixels covering `extent` (xmin, ymin, xmax, ymax), clipped.

    Raises:
        ExtentError: if the extent does not overlap the raster.

    """
    if extent is None:
        return Window(0, 0, model_input.width, model_input.height)
    window = grid.from_bounds(model_input.geotransform, extent, model_input.width,
                              model_input.height)
    if window is None:
        raise ExtentError(f'the extent {extent} does not overlap {model_input.path}; choose an '
                          'extent inside the raster (in its CRS) or leave it empty')
    return window


def read_context(model_input, window, before, after):
    """Read the model bands around `window`: `before` pixels above/left, `after` below/right.

    Returns:
        (reflectance float32 [bands, h + before + after, w + before + after],
         valid bool [same rows, cols]); outside the raster both are 0/False.

    """
    shape = (window.height + before + after, window.width + before + after)
    data = np.zeros((len(model_input.band_indexes), *shape), np.float32)
    valid = np.zeros(shape, bool)
    col0, row0 = max(window.col - before, 0), max(window.row - before, 0)
    col1 = min(window.col + window.width + after, model_input.width)
    row1 = min(window.row + window.height + after, model_input.height)
    inner = (slice(row0 - window.row + before, row1 - window.row + before),
             slice(col0 - window.col + before, col1 - window.col + before))
    ok = np.ones((row1 - row0, col1 - col0), bool)
    for k, (index, nodata) in enumerate(zip(model_input.band_indexes, model_input.nodata)):
        band = model_input.dataset.GetRasterBand(index)
        values = band.ReadAsArray(col0, row0, col1 - col0, row1 - row0).astype(np.float32)
        ok &= np.isfinite(values) if nodata is None or math.isnan(nodata) else (
            np.isfinite(values) & (values != np.float32(nodata)))
        data[k][inner] = values
    if model_input.scale != 1.0:
        data *= np.float32(model_input.scale)
    valid[inner] = ok
    return data, valid
