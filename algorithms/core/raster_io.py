"""Writing GeoTIFF outputs so that a failed or cancelled run leaves nothing that looks complete."""

import contextlib
import functools
import os
import uuid

from osgeo import gdal

from .errors import OutputPathError

GEOTIFF_OPTIONS = ('TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256',
                   'COMPRESS=DEFLATE', 'BIGTIFF=IF_SAFER')
# GDAL's integer pixel types (inputs stored as scaled integers or class codes).
INTEGER_TYPES = (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32, gdal.GDT_Int32)


def _sidecars(path):
    return [path + suffix for suffix in ('.aux.xml', '.ovr', '.msk')]


def _remove_quietly(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


@contextlib.contextmanager
def atomic_output(path, protected=()):
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The caller must close every GDAL dataset on the temporary path before the block ends.
    On any exception (cancel included) the temporary file and its side-cars are removed and
    an existing file at `path` is left untouched.

    Args:
        path: the final output path.
        protected: input paths that must never be overwritten.

    Raises:
        OutputPathError: if `path` is empty, a folder, or one of the protected inputs.
    """
    if not path or os.path.isdir(path):
        raise OutputPathError(f'the output path {path!r} is not a file name; give a file to write')
    final = os.path.abspath(path)
    if any(os.path.abspath(p) == final for p in protected if p):
        raise OutputPathError(f'the output {path} is also an input; choose another output file')
    os.makedirs(os.path.dirname(final) or '.', exist_ok=True)
    root, ext = os.path.splitext(final)
    temporary = f'{root}.partial-{uuid.uuid4().hex[:8]}{ext}'
    try:
        yield temporary
        os.replace(temporary, final)
        for old, new in zip(_sidecars(temporary), _sidecars(final)):
            if os.path.exists(old):
                os.replace(old, new)
            else:
                _remove_quietly(new)
    finally:
        for leftover in [temporary, *_sidecars(temporary)]:
            _remove_quietly(leftover)


def create_geotiff(path, width, height, band_count, data_type, geotransform, projection,
                   nodata=None, options=GEOTIFF_OPTIONS):
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


def uses_gdal_exceptions(function):
    """Decorate a public core function that relies on GDAL raising (see gdal_exceptions)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with gdal_exceptions():
            return function(*args, **kwargs)
    return wrapper
