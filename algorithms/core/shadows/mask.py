"""The cloud and shadow mask (0 clear, 1 cloud, 2 shadow, 255 no data) of a detected cloud mask."""

from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from .. import outputs, raster_io
from ..errors import InvalidRasterError
from ..raster_io import uses_gdal_exceptions
from ..run import context_or_silent
from ..sentinel2.bands import canonical_band_name
from . import scipy_ndimage
from .potential import potential_shadow
from .projection import match_shadows

CLEAR, CLOUD, SHADOW, NODATA = 0, 1, 2, 255
NIR_BAND, SWIR_BAND = 'B8A', 'B11'  # Landsat 8's NIR and SWIR 1, which Fmask uses
DESCRIPTION = 'cloud and shadow mask (0 clear, 1 cloud, 2 shadow, 255 no data)'


@dataclass
class CloudShadowResult:
    """What write_cloud_shadow_mask wrote."""

    path: str
    valid_pixels: int
    cloud_pixels: int
    shadow_pixels: int
    objects: int
    objects_with_shadow: int
    median_height_m: float

    @property
    def shadow_fraction(self):
        """Share of valid pixels flagged as shadow."""
        return self.shadow_pixels / self.valid_pixels if self.valid_pixels else 0.0


@uses_gdal_exceptions
def write_cloud_shadow_mask(stack_path, cloud_mask_path, output_path, sun_view_at, dilation=0,
                            run_context=None):
    """Find the shadows of the clouds in a cloud mask and write the cloud and shadow mask.

    Args:
        stack_path: the reflectance stack the mask was detected on (bands found by
            description; B8A and B11 are used).
        cloud_mask_path: the cloud mask on the stack's grid (0 clear, 1 cloud, 255 no data).
        output_path: Byte GeoTIFF to write (replaced only on success).
        sun_view_at: callable(x, y) -> SunView, e.g. sentinel2.angles.ProductAngles.at.
        dilation: pixels by which cloud and shadow are grown (cloud wins where they meet).
        run_context: optional RunContext.

    Returns:
        CloudShadowResult.

    Raises:
        InvalidRasterError, DependencyMissingError, CancelledError, OutputPathError.

    """
    run = context_or_silent(run_context)
    mask, geotransform, projection = _read_mask(outputs.readable(cloud_mask_path))
    nir, swir = _read_bands(stack_path, geotransform, mask.shape)
    valid = (mask != NODATA) & np.isfinite(nir) & np.isfinite(swir)
    cloud = (mask == CLOUD) & valid
    run.progress(10)
    potential = potential_shadow(nir, swir, valid)
    run.progress(50)
    match = match_shadows(cloud, valid, potential, geotransform, sun_view_at, run_context=run)
    codes = compose(cloud, match.shadow, valid, dilation)
    with raster_io.atomic_output(output_path, protected=(stack_path, cloud_mask_path)) as path:
        dataset = raster_io.create_geotiff(path, codes.shape[1], codes.shape[0], 1,
                                           gdal.GDT_Byte, geotransform, projection,
                                           nodata=NODATA)
        band = dataset.GetRasterBand(1)
        band.SetDescription(DESCRIPTION)
        band.WriteArray(codes)
        dataset.SetMetadata({'SHADOW_METHOD': 'Fmask-style object matching (B8A, B11 flood '
                                              'fill; sun and view angles of the tile metadata)',
                             'DILATION_PIXELS': str(dilation)})
        dataset = None
    run.progress(100)
    heights = match.heights_m
    return CloudShadowResult(output_path, int(valid.sum()), int((codes == CLOUD).sum()),
                             int((codes == SHADOW).sum()), match.objects, len(heights),
                             float(np.median(heights)) if heights else float('nan'))


def compose(cloud: np.ndarray, shadow: np.ndarray, valid: np.ndarray,
            dilation: int = 0) -> np.ndarray:
    """Class codes from boolean cloud and shadow masks, both grown by `dilation` pixels.

    Growing uses a square (8-neighbour) structuring element, as Fmask's buffers do; cloud
    takes precedence over shadow, and no-data pixels stay no data.
    """
    if dilation:
        ndimage = scipy_ndimage()
        square = np.ones((3, 3), bool)
        cloud = ndimage.binary_dilation(cloud, square, iterations=int(dilation))
        shadow = ndimage.binary_dilation(shadow, square, iterations=int(dilation))
    codes = np.full(cloud.shape, CLEAR, np.uint8)
    codes[shadow] = SHADOW
    codes[cloud] = CLOUD
    codes[~valid] = NODATA
    return codes


def _read_mask(path):
    """(values, geotransform, projection) of the cloud mask."""
    dataset = gdal.Open(path)
    return (dataset.GetRasterBand(1).ReadAsArray(), dataset.GetGeoTransform(),
            dataset.GetProjection())


def _read_bands(stack_path, geotransform, shape):
    """NIR and SWIR reflectance (NaN at no data) of the stack under the mask's grid.

    The whole 60 m grid is read at once (a full tile: 1830 x 1830, 13 MB a band), since a
    cloud's shadow may lie kilometres away from it.
    """
    dataset = gdal.Open(stack_path)
    origin = dataset.GetGeoTransform()
    col = round((geotransform[0] - origin[0]) / origin[1])
    row = round((geotransform[3] - origin[3]) / origin[5])
    names = [canonical_band_name(dataset.GetRasterBand(i).GetDescription())
             for i in range(1, dataset.RasterCount + 1)]
    arrays = []
    for wanted in (NIR_BAND, SWIR_BAND):
        if wanted not in names:
            raise InvalidRasterError(f'{stack_path} has no band described as {wanted}; the '
                                     f'cloud and shadow mask needs B8A and B11 of the stack')
        band = dataset.GetRasterBand(names.index(wanted) + 1)
        values = band.ReadAsArray(col, row, shape[1], shape[0]).astype(np.float32)
        nodata = band.GetNoDataValue()
        if nodata is not None and np.isfinite(nodata):
            values[values == nodata] = np.nan
        arrays.append(values)
    return arrays
