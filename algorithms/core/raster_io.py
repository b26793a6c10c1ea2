"""Writing GeoTIFF outputs so that a failed or cancelled run leaves nothing that looks complete."""

import contextlib
import functools
import threading

from osgeo import gdal

from . import outputs

GEOTIFF_OPTIONS = ('TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256',
                   'COMPRESS=DEFLATE', 'BIGTIFF=IF_SAFER')
# GDAL's block cache while our own reads and writes run: enough for a full-width row of JPEG2000
# tiles (10980 x 1024 UInt16 = 22 MB) and of the stack's GeoTIFF tiles, each read once; GDAL's
# default (5 % of the RAM) only fills up with tiles we never read again.
BLOCK_CACHE_BYTES = 128 * 2**20
_cache_lock = threading.Lock()
_cache_users = [0, None]  # runs inside bounded_block_cache, the cache size to restore after them
# GDAL's integer pixel types (inputs stored as scaled integers or class codes).
INTEGER_TYPES = (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32, gdal.GDT_Int32)


def atomic_output(path, protected=()):
    """Yield a temporary path beside `path`, put in place when the run succeeds (see outputs).

    The caller must close every GDAL dataset on the temporary path before the block ends. On
    any exception (cancel included) the temporary file is removed and an existing file at
    `path` is left untouched; within a run's OutputTransaction the rename waits for the run.

    Args:
        path: the final output path.
        protected: input paths that must never be overwritten.

    Raises:
        OutputPathError: if `path` is empty, a folder, or one of the protected inputs.
        OutputWriteError: if the file was not written completely (full disk).
    """
    return outputs.staged_output(path, protected)


def create_geotiff(path: str, width: int, height: int, band_count: int, data_type: int,
                   geotransform, projection: str, nodata=None,
                   options=GEOTIFF_OPTIONS) -> gdal.Dataset:
    """Create a tiled, compressed GeoTIFF and return the open gdal.Dataset.

    Args:
        path: file to create.
        width: columns.
        height: rows.
        band_count: number of bands.
        data_type: a GDAL type, e.g. gdal.GDT_Float32.
        geotransform: six-number GDAL geotransform.
        projection: WKT of the CRS.
        nodata: value set on every band, or None.
        options: GeoTIFF creation options.
    """
    extra = ['PREDICTOR=3'] if data_type in (gdal.GDT_Float32, gdal.GDT_Float64) else []
    dataset = gdal.GetDriverByName('GTiff').Create(
        path, width, height, band_count, data_type, list(options) + extra)
    dataset.SetGeoTransform(tuple(geotransform))
    dataset.SetProjection(projection)
    if nodata is not None:
        for index in range(1, band_count + 1):
            dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


@contextlib.contextmanager
def gdal_exceptions():
    """Run a block with GDAL raising exceptions, then restore the caller's mode.

    GDAL's Python bindings keep one process-wide switch; turning it on at import time would
    change it for QGIS and every other plugin, so the core switches it on only around its own
    work (the algorithm base wraps each run, and every public entry point wraps itself).
    """
    previous = gdal.GetUseExceptions()
    gdal.UseExceptions()
    try:
        yield
    finally:
        if not previous:
            gdal.DontUseExceptions()


@contextlib.contextmanager
def bounded_block_cache(limit_bytes: int = BLOCK_CACHE_BYTES):
    """Run a block with GDAL's block cache at most `limit_bytes`, then restore the caller's size.

    The cache size is one process-wide setting (QGIS's too): it is lowered only while runs of
    ours are going on (overlapping runs, as QGIS's background tasks, share one bound) and the
    size found before the first is restored after the last. Never raised.
    """
    with _cache_lock:
        if _cache_users[0] == 0:
            _cache_users[1] = gdal.GetCacheMax()
            gdal.SetCacheMax(min(_cache_users[1], limit_bytes))
        _cache_users[0] += 1
    try:
        yield
    finally:
        with _cache_lock:
            _cache_users[0] -= 1
            if _cache_users[0] == 0:
                gdal.SetCacheMax(_cache_users[1])


def uses_gdal_exceptions(function):
    """Decorate a public core function that relies on GDAL raising (see gdal_exceptions)."""
    return _wrapped_in(gdal_exceptions, function)


def bounds_block_cache(function):
    """Decorate a public core function that reads or writes whole rasters (bounded_block_cache)."""
    return _wrapped_in(bounded_block_cache, function)


def _wrapped_in(context, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with context():
            return function(*args, **kwargs)
    return wrapper
