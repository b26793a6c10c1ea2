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
# Telling reflectance from DN by the data: top-of-atmosphere reflectance stays below 1.5 even over
# bright cloud and snow and above -0.1 (the L1C offset of -1000 / 10000), and the median over all
# bands of a real scene lies well inside 0.005..1.5. A share of the valid values is allowed out.
REFLECTANCE_RANGE = (-0.1, 1.5)
PLAUSIBLE_MEDIAN = (0.005, 1.5)
OUTLIER_SHARE = 0.01
# The scaling is judged on a few small windows of every band, each inside one raster block: a
# decimated read of the whole raster decodes every block (seconds on a compressed or JPEG2000
# raster, more when the block cache is smaller than the raster). Windows at the centres of a
# grid first; where they hold too little valid data (a swath-edge strip), windows where the data
# is: in the GeoTIFF blocks that compress worst (fill compresses to almost nothing), else where a
# decimated read of the first band (GDAL takes overviews when there are) finds valid pixels.
SAMPLE_WINDOW = 128  # side in pixels
SAMPLE_COUNT = 4  # windows per stage: <= 65536 pixels per band each
SAMPLE_MIN_VALID = 4096  # valid pixels of the first band below which the data is looked for
LOCATE_SIDE = 256  # the decimated read that finds where the valid pixels are
MAX_BLOCKS_RANKED = 65536  # a raster with more blocks is searched by the decimated read
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
def open_model_input(path: str, metadata, warn=None) -> 'ModelInput':
    """Open `path` and match its bands and grid to the model described by `metadata`.

    Raises:
        InvalidRasterError: unreadable raster or a pixel size other than the model's.
        BandMismatchError: the model's bands cannot be found by band description.

    """
    model_input = open_bands(path, metadata.bands, warn)
    check_resolution(model_input.dataset, metadata.resolution_m, os.path.basename(path))
    return model_input


@uses_gdal_exceptions
def open_bands(path: str, bands, warn=None) -> 'ModelInput':
    """Open `path` and find `bands` (canonical names) by band description; no grid check.

    Integer rasters are read as reflectance x 10000; a float raster whose values look like that
    too is read so, with a message to `warn`; values that look like neither are refused.

    Raises:
        InvalidRasterError: unreadable raster, or values that are not reflectance.
        BandMismatchError: a band cannot be found by band description.

    """
    try:
        dataset = gdal.Open(path)
    except RuntimeError as error:
        raise InvalidRasterError(f'cannot read {path} as a raster: {error}') from error
    indexes = match_bands(_descriptions(dataset), bands, os.path.basename(path))
    raster_bands = [dataset.GetRasterBand(i) for i in indexes]
    integer = raster_bands[0].DataType in raster_io.INTEGER_TYPES
    model_input = ModelInput(path, dataset, tuple(indexes), INTEGER_SCALE if integer else 1.0,
                             tuple(band.GetNoDataValue() for band in raster_bands),
                             dataset.RasterXSize, dataset.RasterYSize,
                             dataset.GetGeoTransform(), dataset.GetProjection())
    model_input.scale = checked_scale(model_input, warn or (lambda _text: None))
    return model_input


def _sample(model_input):
    """The valid values of every model band in the sample windows (raw, before scaling)."""
    windows = _grid_windows(model_input)
    values = _read_valid(model_input, windows)
    if values[0].size < SAMPLE_MIN_VALID:
        more = [w for w in _data_windows(model_input) if w not in windows]
        values = [np.concatenate(pair) for pair in zip(values, _read_valid(model_input, more))]
    return np.concatenate(values)


def _read_valid(model_input, windows):
    """Per model band, the valid values inside `windows` (each (col, row, width, height))."""
    values = []
    for index, nodata in zip(model_input.band_indexes, model_input.nodata):
        band = model_input.dataset.GetRasterBand(index)
        arrays = [band.ReadAsArray(*window).astype(np.float64).ravel() for window in windows]
        array = np.concatenate(arrays) if arrays else np.zeros(0)
        values.append(array[_valid(array, nodata)])
    return values


def _valid(array, nodata):
    return np.isfinite(array) & (array != nodata if nodata is not None else True)


def _first_band(model_input):
    return model_input.dataset.GetRasterBand(model_input.band_indexes[0])


def _window_at(model_input, col, row):
    """The sample window holding pixel (col, row), inside one block where blocks allow."""
    block = _first_band(model_input).GetBlockSize()
    sizes = model_input.width, model_input.height
    sides = [min(SAMPLE_WINDOW, size) for size in sizes]
    starts = [_aligned(*args) for args in zip((col, row), block, sides, sizes)]
    return starts[0], starts[1], sides[0], sides[1]


def _aligned(pixel, block, side, size):
    """Start of a `side` run holding `pixel`: on a `side` grid inside its block, within `size`."""
    origin = pixel // block * block
    start = origin + min((pixel - origin) // side * side, max(block - side, 0))
    return max(0, min(start, size - side))


def _grid_windows(model_input):
    """Windows at the centres of a grid of SAMPLE_COUNT cells over the raster."""
    cells = math.isqrt(SAMPLE_COUNT)
    centres = [[int((k + 0.5) * size / cells) for k in range(cells)]
               for size in (model_input.width, model_input.height)]
    return list(dict.fromkeys(_window_at(model_input, col, row)
                              for row in centres[1] for col in centres[0]))


def _data_windows(model_input):
    """Up to SAMPLE_COUNT windows on valid pixels of the first band, where the data likely is."""
    whole = [(0, 0, model_input.width, model_input.height)]
    return (_windows_on_data(model_input, _worst_compressed_blocks(model_input))
            or _windows_on_data(model_input, whole))


def _windows_on_data(model_input, regions):
    """Windows on valid first-band pixels spread over `regions`, read decimated."""
    windows = []
    for col, row, width, height in regions:
        side = min(LOCATE_SIDE, width), min(LOCATE_SIDE, height)
        array = _first_band(model_input).ReadAsArray(
            col, row, width, height, buf_xsize=side[0], buf_ysize=side[1]).astype(np.float64)
        rows, cols = np.nonzero(_valid(array, model_input.nodata[0]))
        count = min(rows.size, max(1, SAMPLE_COUNT // len(regions)))
        windows += [_window_at(model_input, col + int((cols[k] + 0.5) * width / side[0]),
                               row + int((rows[k] + 0.5) * height / side[1]))
                    for k in np.linspace(0, rows.size - 1, count).astype(int)]
    return list(dict.fromkeys(windows))


def _worst_compressed_blocks(model_input):
    """The SAMPLE_COUNT GeoTIFF blocks of the first band stored in most bytes; [] if unknown."""
    band = _first_band(model_input)
    (block_x, block_y), (width, height) = band.GetBlockSize(), (model_input.width,
                                                                 model_input.height)
    counts = -(-width // block_x), -(-height // block_y)
    if counts[0] * counts[1] > MAX_BLOCKS_RANKED:
        return []
    stored = {}
    for y in range(counts[1]):
        for x in range(counts[0]):
            size = band.GetMetadataItem(f'BLOCK_SIZE_{x}_{y}', 'TIFF')
            if size is None:
                return []
            stored[x, y] = int(size)
    if len(set(stored.values())) == 1:
        return []  # uncompressed: the sizes tell nothing
    ranked = sorted(stored, key=lambda xy: (-stored[xy], xy[1], xy[0]))[:SAMPLE_COUNT]
    return [(x * block_x, y * block_y, min(block_x, width - x * block_x),
             min(block_y, height - y * block_y)) for x, y in ranked]


def _looks(reflectance):
    """(median, share below, share above REFLECTANCE_RANGE) of values read as reflectance."""
    low, high = REFLECTANCE_RANGE
    return (float(np.median(reflectance)), float(np.mean(reflectance < low)),
            float(np.mean(reflectance > high)))


def _plausible(reflectance):
    median, below, above = _looks(reflectance)
    return (max(below, above) <= OUTLIER_SHARE
            and PLAUSIBLE_MEDIAN[0] <= median <= PLAUSIBLE_MEDIAN[1])


def checked_scale(model_input: 'ModelInput', warn) -> float:
    """Return the factor that turns the raster's values into reflectance, judged on the data.

    Raises:
        InvalidRasterError: saying how the values look and what the model expects.
    """
    sample = _sample(model_input)
    name, scale = os.path.basename(model_input.path), model_input.scale
    if sample.size == 0 or _plausible(sample * scale):
        return scale
    if scale == 1.0 and _plausible(sample * INTEGER_SCALE):
        warn(f'{name} is a float raster but its values look like reflectance x 10000 (L1C DN: '
             f'median {np.median(sample):.4g}); they were read as reflectance x 10000. Give '
             'reflectance (unit 1) to silence this.')
        return INTEGER_SCALE
    median, below, above = _looks(sample * scale)
    how = 'integer, read as reflectance x 10000' if scale != 1.0 else 'float, read as reflectance'
    raise InvalidRasterError(
        f'{name} does not hold top-of-atmosphere reflectance: its values ({how}) have median '
        f'{median:.4g}, {above:.1%} above {REFLECTANCE_RANGE[1]} and {below:.1%} below '
        f'{REFLECTANCE_RANGE[0]}. The model expects reflectance (unit 1, a median near 0.1-0.3) '
        'in a float raster or reflectance x 10000 (L1C DN) in an integer one: rescale the '
        "raster, or make it with 'Stack Sentinel-2 L1C bands at 60 m'")


def _descriptions(dataset):
    return [dataset.GetRasterBand(i).GetDescription() for i in range(1, dataset.RasterCount + 1)]


def match_bands(descriptions, model_bands, name: str = 'the raster') -> 'list[int]':
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


def pixel_size_m(dataset: gdal.Dataset) -> 'tuple[float, float]':
    """Return the (x, y) pixel size in metres (approximate for geographic coordinates)."""
    transform = dataset.GetGeoTransform()
    size = (abs(transform[1]), abs(transform[5]))
    srs = osr.SpatialReference(wkt=dataset.GetProjection() or '')
    if dataset.GetProjection() and srs.IsGeographic():
        latitude = math.radians(transform[3] + transform[5] * dataset.RasterYSize / 2)
        return size[0] * 111320 * math.cos(latitude), size[1] * 110574
    return size


def check_resolution(dataset: gdal.Dataset, resolution_m: float, name: str = 'the raster') -> None:
    """Raise InvalidRasterError unless the pixel size matches the model's resolution."""
    sizes = pixel_size_m(dataset)
    if any(abs(size - resolution_m) > RESOLUTION_TOLERANCE * resolution_m for size in sizes):
        raise InvalidRasterError(
            f'{name} has {sizes[0]:.4g} x {sizes[1]:.4g} m pixels but the model works at '
            f'{resolution_m:g} m; resample the raster to {resolution_m:g} m (the stacking '
            'algorithm makes 60 m stacks) or choose a model for this resolution')


def extent_window(model_input: 'ModelInput', extent) -> Window:
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


def read_context(model_input: 'ModelInput', window: Window, before: int,
                 after: int) -> 'tuple[np.ndarray, np.ndarray]':
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
