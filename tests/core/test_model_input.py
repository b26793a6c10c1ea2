"""The input's scale check reads a few small windows, yet finds data in a narrow valid strip."""

import numpy as np
import pytest
from detect_helpers import CROP, band_names, read_all
from osgeo import gdal, osr

from algorithms.core.detection import model_input
from algorithms.core.errors import InvalidRasterError
from algorithms.core.raster_io import GEOTIFF_OPTIONS, create_geotiff
from algorithms.core.sentinel2.bands import L1C_BANDS

SIZE = 1024  # the real crop tiled: 16 GeoTIFF blocks of 256 x 256
BLOCK = 256
# Per band at most two stages of SAMPLE_COUNT windows; the first band also locates the data.
WINDOW_PIXELS = model_input.SAMPLE_WINDOW ** 2
PIXELS_PER_BAND = 2 * model_input.SAMPLE_COUNT * WINDOW_PIXELS
UNCOMPRESSED = ('TILED=NO',)


class CountingBand:
    """A real GDAL band that records the source window of each ReadAsArray."""

    def __init__(self, band, reads):
        self._band, self._reads = band, reads

    def __getattr__(self, name):
        return getattr(self._band, name)

    def ReadAsArray(self, xoff=0, yoff=0, xsize=None, ysize=None, **buffer):  # noqa: N802
        window = (xoff, yoff, xsize or self._band.XSize, ysize or self._band.YSize)
        self._reads.append((self._band.GetBand(), window, buffer))
        return self._band.ReadAsArray(*window, **buffer)


class CountingDataset:
    """A real GDAL dataset whose bands record their reads."""

    def __init__(self, dataset):
        self._dataset, self.reads = dataset, []

    def __getattr__(self, name):
        return getattr(self._dataset, name)

    def GetRasterBand(self, index):  # noqa: N802
        return CountingBand(self._dataset.GetRasterBand(index), self.reads)


def tiled_scene(path, factor=1.0, valid=None, options=GEOTIFF_OPTIONS):
    """The real crop tiled to SIZE x SIZE, times `factor`; NaN outside `valid` (slices)."""
    image = np.tile(read_all(CROP), (1, SIZE // 128, SIZE // 128)) * factor
    if valid is not None:
        kept = image[(slice(None), *valid)].copy()
        image[:] = np.nan
        image[(slice(None), *valid)] = kept
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32738)
    dataset = create_geotiff(str(path), SIZE, SIZE, 13, gdal.GDT_Float32,
                             (500000, 60, 0, 8300000, 0, -60), srs.ExportToWkt(),
                             nodata=float('nan'), options=options)
    for index, (values, name) in enumerate(zip(image, band_names(CROP)), start=1):
        dataset.GetRasterBand(index).WriteArray(values)
        dataset.GetRasterBand(index).SetDescription(name)
    dataset = None
    return str(path)


def counted_check(path):
    """(scale, warnings, reads) of the scale check on `path`."""
    opened = model_input.open_bands(path, L1C_BANDS)
    opened.scale = 1.0  # a float raster's scale before the check
    opened.dataset = CountingDataset(opened.dataset)
    warnings = []
    scale = model_input.checked_scale(opened, warnings.append)
    return scale, warnings, opened.dataset.reads


def full_resolution_pixels(reads, band):
    return sum(w[2] * w[3] for b, w, buffer in reads if b == band and not buffer)


def test_dense_raster_is_judged_on_a_few_windows_each_inside_one_block(tmp_path):
    scale, warnings, reads = counted_check(tiled_scene(tmp_path / 'dense.tif'))
    assert scale == 1.0 and not warnings
    windows = {window for _, window, _ in reads}
    assert len(windows) == model_input.SAMPLE_COUNT, windows
    for col, row, width, height in windows:
        assert col // BLOCK == (col + width - 1) // BLOCK, (col, width)
        assert row // BLOCK == (row + height - 1) // BLOCK, (row, height)
    assert all(not buffer for _, _, buffer in reads), 'no decimated read of a dense raster'
    per_band = [full_resolution_pixels(reads, band) for band in range(1, 14)]
    assert max(per_band) <= model_input.SAMPLE_COUNT * WINDOW_PIXELS, per_band


STRIPS = {'left columns (2 %)': (slice(None), slice(0, 20)),
          'bottom rows (2 %)': (slice(SIZE - 20, SIZE), slice(None)),
          'one corner block': (slice(SIZE - 200, SIZE), slice(SIZE - 200, SIZE))}


@pytest.mark.parametrize('options', [GEOTIFF_OPTIONS, UNCOMPRESSED], ids=['deflate', 'plain'])
@pytest.mark.parametrize('strip', STRIPS, ids=list(STRIPS))
def test_data_in_a_narrow_strip_is_found_with_bounded_reads(tmp_path, options, strip):
    dn = tiled_scene(tmp_path / 'dn.tif', 10000, STRIPS[strip], options)
    scale, warnings, reads = counted_check(dn)
    assert scale == model_input.INTEGER_SCALE and warnings, (scale, warnings)
    per_band = [full_resolution_pixels(reads, band) for band in range(2, 14)]
    assert max(per_band) <= PIXELS_PER_BAND, per_band
    buffers = [buffer for _, _, buffer in reads if buffer]
    assert all(b['buf_xsize'] * b['buf_ysize'] <= model_input.LOCATE_SIDE ** 2 for b in buffers)
    assert len(buffers) <= model_input.SAMPLE_COUNT, buffers

    percent = tiled_scene(tmp_path / 'percent.tif', 100, STRIPS[strip], options)
    with pytest.raises(InvalidRasterError, match='percent.tif does not hold'):
        model_input.open_bands(percent, L1C_BANDS)
