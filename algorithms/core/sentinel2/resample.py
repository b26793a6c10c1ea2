"""Area-mean downsampling of band windows onto a coarser grid that shares their pixel edges."""

import numpy as np
from osgeo import gdal_array

from ..errors import InvalidProductError

NODATA_DN = 0


def area_mean(dn: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each `factor` x `factor` block of `dn`; NaN where any source pixel is DN 0.

    Area averaging is what a coarser detector would have measured over the same ground, so
    the 60 m values of the 10 m and 20 m bands match the radiometry of the native 60 m bands
    (nearest neighbour would keep one of the 36 or 9 source pixels, bilinear would blur edges).

    Args:
        dn: 2-D integer array whose shape is a multiple of `factor`.
        factor: integer size ratio between the coarse and the fine pixel.

    Returns:
        float64 array of shape (rows / factor, cols / factor).

    """
    rows, cols = dn.shape[0] // factor, dn.shape[1] // factor
    if not dn.any():  # outside the swath (most of a partly imaged tile): nothing to average
        return np.full((rows, cols), np.nan)
    if factor == 1:
        return np.where(dn != NODATA_DN, dn.astype(np.float64), np.nan)
    blocks = dn.reshape(rows, factor, cols, factor)
    # Integer sums are exact and faster; uint32 holds 36 x 65535 (any factor up to 256).
    if dn.dtype.kind == 'u' and dn.dtype.itemsize <= 2 and factor <= 256:
        accumulator = np.uint32
    else:
        accumulator = np.int64 if dn.dtype.kind in 'iu' else np.float64
    mean = blocks.sum(axis=(1, 3), dtype=accumulator)
    mean = mean / float(factor * factor)
    if (dn == NODATA_DN).any():  # most blocks of a tile have no gap: skip the per-block test
        mean[~(blocks != NODATA_DN).all(axis=(1, 3))] = np.nan
    return mean


def source_offset(dst_x: float, dst_y: float, src_geotransform: tuple,
                  path: str) -> tuple:
    """Pixel offset in the source of the point (dst_x, dst_y), which must be a pixel corner.

    Raises:
        InvalidProductError: if the point falls inside a source pixel (grids not aligned).

    """
    x0, res_x, _, y0, _, res_y = src_geotransform
    col, row = (dst_x - x0) / res_x, (dst_y - y0) / res_y
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        raise InvalidProductError(f'{path} is not on the tile grid (its pixel edges are not '
                                  f'multiples of its pixel size from the tile corner); give '
                                  f'band files as ESA delivers them')
    return int(round(col)), int(round(row))


def read_boundless(band, col: int, row: int, width: int, height: int) -> np.ndarray:
    """Read a window that may extend past the raster; pixels outside are DN 0 (no data)."""
    dtype = gdal_array.GDALTypeCodeToNumericTypeCode(band.DataType)
    out = np.zeros((height, width), dtype=dtype)
    c0, r0 = max(col, 0), max(row, 0)
    c1 = min(col + width, band.XSize)
    r1 = min(row + height, band.YSize)
    if c1 > c0 and r1 > r0:
        out[r0 - row:r1 - row, c0 - col:c1 - col] = band.ReadAsArray(c0, r0, c1 - c0, r1 - r0)
    return out


def resolution_factor(target_res: float, source_res: float, path: str) -> int:
    """Integer ratio target / source pixel size.

    Raises:
        InvalidProductError: if the target is not a whole multiple of the source pixel size.

    """
    factor = target_res / abs(source_res)
    if factor < 1 - 1e-9 or abs(factor - round(factor)) > 1e-6:
        raise InvalidProductError(f'{path} has {abs(source_res):g} m pixels, which do not tile '
                                  f'{target_res:g} m pixels; choose a multiple of 60 m')
    return int(round(factor))
