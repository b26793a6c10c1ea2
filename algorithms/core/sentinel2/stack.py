"""Stack the 13 bands of a Level-1C product at 60 m as Float32 TOA reflectance (stack contract)."""

import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from osgeo import gdal, osr

from .. import grid, raster_io
from ..errors import CancelledError, ExtentError, InvalidProductError, NoValidDataError
from ..grid import iter_windows
from ..raster_io import bounds_block_cache, uses_gdal_exceptions
from ..run import RunContext, context_or_silent
from . import resample
from .bands import L1C_BANDS, band_description
from .product import open_product

RESOLUTION_M = 60
# Output rows per block: 128 rows at 60 m keep our buffers near 100 MB for a full tile.
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
        decode_level: 0 (exact, the default) or a JPEG2000 resolution level: a band whose
            pixels tile the output pixel 2**level times over is decoded at that reduced level
            (the 10 m bands at 20 m for level 1, about a quarter of their decoding) and then
            area-averaged; the wavelet's low-pass is not an area mean, so the result only
            approximates the exact one (deviation measured by `make bench`, README).
    """

    extent: Optional[tuple] = None
    extent_crs: Optional[str] = None
    epsg: Optional[int] = None
    resolution: int = RESOLUTION_M
    block_rows: int = BLOCK_ROWS
    decode_level: int = 0


@uses_gdal_exceptions
@bounds_block_cache
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
    if options.decode_level < 0:
        raise InvalidProductError(f'JPEG2000 decode level {options.decode_level} is negative; '
                                  f'use 0 (exact) or a reduced resolution level 1, 2, ...')
    epsg, extent, resolution = product.choose_epsg(options.epsg), options.extent, options.resolution
    if extent is not None and options.extent_crs:
        extent = grid.reproject_box(extent, options.extent_crs, f'EPSG:{epsg}')
    datasets = {band: _open_band(paths) for band, paths in product.band_files[epsg].items()}
    geotransform, width, height = _output_grid(product, epsg, datasets, extent, resolution)
    metadata = _stack_metadata(product, epsg, resolution, datasets, options.decode_level)
    valid_fraction = _write_stack(output_path, product, epsg, datasets,
                                  (geotransform, width, height), metadata, options,
                                  context_or_silent(run_context))
    return StackResult(os.path.abspath(output_path), width, height, epsg, geotransform,
                       valid_fraction, metadata, list(product.notes))


def _write_stack(output_path, product, epsg, datasets, grid, metadata, options, run_context):
    """Write the GeoTIFF through a temporary file; return the share of valid pixels."""
    geotransform, width, height = grid
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    with raster_io.atomic_output(output_path, protected=_protected_paths(product)) as temporary:
        dataset = raster_io.create_geotiff(temporary, width, height, len(L1C_BANDS),
                                           gdal.GDT_Float32, geotransform, srs.ExportToWkt(),
                                           nodata=float('nan'))
        _describe(dataset, metadata)
        valid = _write_blocks(dataset, datasets, product, geotransform, options,
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


def _write_blocks(dataset, datasets, product, geotransform, options, progress, is_canceled):
    """Fill the output block by block (all bands at once, to apply the common no-data mask)."""
    windows = list(iter_windows(dataset.RasterXSize, dataset.RasterYSize,
                                dataset.RasterXSize, options.block_rows))
    readers = [_BandRows(datasets[band], band, geotransform, dataset.RasterXSize,
                         options.decode_level) for band in L1C_BANDS]
    steps, valid_total = len(windows) * len(L1C_BANDS), 0
    for w_index, window in enumerate(windows):
        block = np.empty((len(L1C_BANDS), window.height, window.width), np.float32)
        for b_index, band in enumerate(L1C_BANDS):
            if is_canceled():
                raise CancelledError('stacking cancelled; no output was written')
            dn_mean = readers[b_index].next_means(window.height)
            # In float64 then rounded once to float32: exact to Float32's precision.
            block[b_index] = (dn_mean + product.offsets[band]) / product.quantification
            progress(100.0 * (w_index * len(L1C_BANDS) + b_index + 1) / steps)
        invalid = np.isnan(block).any(axis=0)
        block[:, invalid] = np.nan
        valid_total += int(invalid.size - invalid.sum())
        for index in range(len(L1C_BANDS)):
            dataset.GetRasterBand(index + 1).WriteArray(block[index], window.col, window.row)
    return valid_total


class _BandRows:
    """Area-mean DN of one band over the output grid, output row after output row.

    The source is read in full-width strips that end on its tile rows (1024 rows for ESA's
    10 m JP2s), so every JPEG2000 tile is decoded once, however small GDAL's block cache;
    source rows read but not yet averaged wait in `pending`.
    """

    def __init__(self, source, band, geotransform, width, decode_level=0):
        src_gt = source.GetGeoTransform()
        # A mosaic of granules is an in-memory VRT without a file name: name the band instead.
        name = source.GetDescription() or f'the {band} mosaic'
        factor = resample.resolution_factor(geotransform[1], src_gt[1], name)
        col, row = resample.source_offset(geotransform[0], geotransform[3], src_gt, name)
        self.source = source  # kept referenced: a band outliving its dataset crashes GDAL
        self.band = source.GetRasterBand(1)
        level = _reduced_level(self.band, factor, decode_level)
        if level:  # overview `level` of a JPEG2000 is its resolution level, 2**level coarser
            self.band = self.band.GetOverview(level - 1)
        self.factor, self.col, self.row = factor >> level, col >> level, row >> level
        self.width = width * self.factor
        self.pending = None

    def next_means(self, rows: int) -> np.ndarray:
        """Area means of the next `rows` output rows (NaN where any source pixel is DN 0)."""
        needed = rows * self.factor
        have = 0 if self.pending is None else len(self.pending)
        if have < needed:
            tile_rows = self.band.GetBlockSize()[1]
            end = -(-(self.row + needed) // tile_rows) * tile_rows  # up to the tile row's end
            end = max(self.row + needed, min(end, self.band.YSize))
            fresh = resample.read_boundless(self.band, self.col, self.row + have, self.width,
                                            end - self.row - have)
            self.pending = fresh if not have else np.concatenate([self.pending, fresh])
        dn, self.pending = self.pending[:needed], self.pending[needed:]
        self.row += needed
        return resample.area_mean(dn, self.factor)


def _reduced_level(band, factor, decode_level):
    """The highest level up to `decode_level` whose pixels still tile the output pixel."""
    level = min(decode_level, band.GetOverviewCount())
    while level and factor % 2**level:
        level -= 1
    return level


def _stack_metadata(product, epsg, resolution, datasets, decode_level):
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
    if decode_level:
        metadata['RESAMPLING'] = (f'approximate: bands decoded at JPEG2000 resolution level up '
                                  f'to {decode_level} where its pixels tile the output pixel, '
                                  f'then area mean')
    return metadata


def _describe(dataset, metadata):
    dataset.SetMetadata({k: v for k, v in metadata.items() if v})
    for index, band in enumerate(L1C_BANDS):
        dataset.GetRasterBand(index + 1).SetDescription(band_description(band))


def _protected_paths(product):
    sources = product.source if isinstance(product.source, (list, tuple)) else [product.source]
    files = [p for paths in product.band_files.values() for ps in paths.values() for p in ps]
    return [str(p) for p in sources] + [p for p in files if not p.startswith('/vsi')]
