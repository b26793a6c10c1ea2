"""Stack the 13 bands of a Level-1C product at 60 m as Float32 TOA reflectance (stack contract)."""

import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from osgeo import gdal, osr

from .. import grid, raster_io
from ..errors import CancelledError, ExtentError, InvalidProductError, NoValidDataError
from ..grid import iter_windows
from ..raster_io import uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from . import resample
from .bands import L1C_BANDS, band_description
from .product import open_product

RESOLUTION_M = 60
# Output rows per block: 128 rows at 60 m keep our buffers near 100 MB for a full tile; the
# JPEG2000 tiles (1024 rows at 10 m) a block shares with the next stay in GDAL's block cache.
BLOCK_ROWS = 128


@dataclass
class StackResult:
    """What stack_l1c wrote: path, grid, share of valid pixels and the product metadata."""

    path: str
    width: int
    height: int
    epsg: int
    geotransform: tuple
    valid_fraction: float
    metadata: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class StackOptions:
    """How to stack: area, zone and pixel size (the defaults stack the whole tile at 60 m).

    Attributes:
        extent: optional (xmin, ymin, xmax, ymax), in `extent_crs` or else in the output CRS;
            its bounding box in the output CRS is snapped outward to the tile's grid.
        extent_crs: the CRS of `extent` (WKT, 'EPSG:n'); default the output CRS.
        epsg: output UTM zone for products covering two; default the product's main zone.
        resolution: output pixel size in metres, a multiple of 60 (the model needs 60).
        block_rows: output rows processed at once (bounds memory).
    """

    extent: Optional[tuple] = None
    extent_crs: Optional[str] = None
    epsg: Optional[int] = None
    resolution: int = RESOLUTION_M
    block_rows: int = BLOCK_ROWS


@uses_gdal_exceptions
def stack_l1c(source, output_path: str, options: Optional[StackOptions] = None,
              run_context: Optional[RunContext] = None) -> 'StackResult':
    """Write the 13-band 60 m TOA reflectance stack of a Level-1C product.

    Reflectance = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE per band; 10 m and 20 m bands
    are area-averaged, 60 m bands kept. A pixel is NaN on every band if any source pixel of
    any band is DN 0 (no data). The grid is the tile's 60 m grid.

    Args:
        source: anything open_product accepts (SAFE folder or zip, MTD xml, band files).
        output_path: GeoTIFF to write (replaced only on success).
        options: StackOptions (area, zone, pixel size).
        run_context: RunContext (progress; cancel checked before each band read).

    Returns:
        StackResult.

    Raises:
        InvalidProductError, ExtentError, NoValidDataError, CancelledError.

    """
    product = source if hasattr(source, 'band_files') else open_product(source)
    options = options or StackOptions()
    epsg, extent, resolution = product.choose_epsg(options.epsg), options.extent, options.resolution
    if extent is not None and options.extent_crs:
        extent = grid.reproject_box(extent, options.extent_crs, f'EPSG:{epsg}')
    datasets = {band: _open_band(paths) for band, paths in product.band_files[epsg].items()}
    geotransform, width, height = _output_grid(product, epsg, datasets, extent, resolution)
    metadata = _stack_metadata(product, epsg, resolution, datasets)
    valid_fraction = _write_stack(output_path, product, epsg, datasets,
                                  (geotransform, width, height), metadata, options.block_rows,
                                  context_or_silent(run_context))
    return StackResult(os.path.abspath(output_path), width, height, epsg, geotransform,
                       valid_fraction, metadata, list(product.notes))


def _write_stack(output_path, product, epsg, datasets, grid, metadata, block_rows, run_context):
    """Write the GeoTIFF through a temporary file; return the share of valid pixels."""
    geotransform, width, height = grid
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    with raster_io.atomic_output(output_path, protected=_protected_paths(product)) as temporary:
        dataset = raster_io.create_geotiff(temporary, width, height, len(L1C_BANDS),
                                           gdal.GDT_Float32, geotransform, srs.ExportToWkt(),
                                           nodata=float('nan'))
        _describe(dataset, metadata)
        valid = _write_blocks(dataset, datasets, product, geotransform, block_rows,
                              run_context.progress, run_context.is_canceled)
        if valid == 0:
            raise NoValidDataError(f'{product.product_id} has no valid pixel (all DN 0) in the '
                                   f'requested area; choose an extent over the imaged swath')
        valid_fraction = valid / (width * height)
        dataset.SetMetadataItem('VALID_FRACTION', f'{valid_fraction:.6f}')
        dataset = None
    return valid_fraction


def _open_band(paths):
    """One GDAL dataset per band; granules of the same zone are mosaicked in a VRT."""
    if len(paths) == 1:
        return gdal.Open(paths[0])
    return gdal.BuildVRT('', paths, srcNodata=0, VRTNodata=0)


def _output_grid(product, epsg, datasets, extent, resolution):
    """Geotransform and size of the output: the data's (or extent's) bounds on the tile grid."""
    if resolution % RESOLUTION_M:
        raise InvalidProductError(f'output resolution {resolution} m is not a multiple of '
                                  f'60 m; use 60 m (the model) or 120, 180, ...')
    boxes = [_bounds(d) for d in datasets.values()]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[2] for b in boxes), max(b[3] for b in boxes))
    if extent is not None:
        overlap = grid.intersection(box, extent)
        if overlap is None:
            raise ExtentError(f'the extent {tuple(round(v) for v in extent)} (EPSG:{epsg}) does '
                              f'not overlap {product.product_id}; choose an extent over the tile')
        box = overlap
    origin = product.grid_origins.get(epsg) or _bounds(datasets[L1C_BANDS[0]])[0::3]
    return grid.snap_to_grid(box, origin, resolution)


def _bounds(dataset):
    return grid.bounds(dataset.GetGeoTransform(), dataset.RasterXSize, dataset.RasterYSize)


def _write_blocks(dataset, datasets, product, geotransform, block_rows, progress, is_canceled):
    """Fill the output block by block (all bands at once, to apply the common no-data mask)."""
    windows = list(iter_windows(dataset.RasterXSize, dataset.RasterYSize,
                                dataset.RasterXSize, block_rows))
    steps, valid_total = len(windows) * len(L1C_BANDS), 0
    for w_index, window in enumerate(windows):
        block = np.empty((len(L1C_BANDS), window.height, window.width), np.float32)
        for b_index, band in enumerate(L1C_BANDS):
            if is_canceled():
                raise CancelledError('stacking cancelled; no output was written')
            dn_mean = _band_mean(datasets[band], band, geotransform, window)
            # In float64 then rounded once to float32: exact to Float32's precision.
            block[b_index] = (dn_mean + product.offsets[band]) / product.quantification
            progress(100.0 * (w_index * len(L1C_BANDS) + b_index + 1) / steps)
        invalid = np.isnan(block).any(axis=0)
        block[:, invalid] = np.nan
        valid_total += int(invalid.size - invalid.sum())
        for index in range(len(L1C_BANDS)):
            dataset.GetRasterBand(index + 1).WriteArray(block[index], window.col, window.row)
    return valid_total


def _band_mean(source, band, geotransform, window):
    """Area-mean DN of one band over an output window (NaN where any source pixel is 0)."""
    src_gt = source.GetGeoTransform()
    # A mosaic of granules is an in-memory VRT without a file name: name the band instead.
    name = source.GetDescription() or f'the {band} mosaic'
    factor = resample.resolution_factor(geotransform[1], src_gt[1], name)
    col, row = resample.source_offset(geotransform[0] + window.col * geotransform[1],
                                      geotransform[3] + window.row * geotransform[5],
                                      src_gt, name)
    dn = resample.read_boundless(source.GetRasterBand(1), col, row,
                                 window.width * factor, window.height * factor)
    return resample.area_mean(dn, factor)


def _stack_metadata(product, epsg, resolution, datasets):
    metadata = dict(product.metadata())
    sources = ','.join(f'{b}:{abs(datasets[b].GetGeoTransform()[1]):g}' for b in L1C_BANDS)
    metadata.update({
        'EPSG': str(epsg),
        'RESOLUTION_M': f'{resolution:g}',
        'BANDS': ','.join(L1C_BANDS),
        'REFLECTANCE': 'TOA reflectance = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE',
        'SOURCE_RESOLUTION_M': sources,
        'RESAMPLING': 'area mean of the source pixels in each output pixel (same size: copied)',
        'NODATA_RULE': 'NaN on every band where any source pixel of any band is DN 0',
    })
    return metadata


def _describe(dataset, metadata):
    dataset.SetMetadata({k: v for k, v in metadata.items() if v})
    for index, band in enumerate(L1C_BANDS):
        dataset.GetRasterBand(index + 1).SetDescription(band_description(band))


def _protected_paths(product):
    sources = product.source if isinstance(product.source, (list, tuple)) else [product.source]
    files = [p for paths in product.band_files.values() for ps in paths.values() for p in ps]
    return [str(p) for p in sources] + [p for p in files if not p.startswith('/vsi')]
