"""Potential cloud-shadow pixels: darker than their surroundings in NIR and SWIR (flood fill).

A shadow is lit only by diffuse light, which is weak in the near and short-wave infrared, so
it is a basin in both bands. Each band is flood-filled (every pixel raised to the lowest level
at which it connects to the raster's border, MATLAB's imfill as Fmask uses it); a pixel is a
potential shadow where both bands rise by more than 0.02 reflectance (Zhu & Woodcock 2012;
NIR and SWIR together as in Zhu, Wang & Woodcock 2015).
"""

import math

import numpy as np

from . import scipy_ndimage

POTENTIAL_SHADOW_RISE = 0.02  # reflectance the fill must add in both bands (Fmask)
FILL_STEP = 0.005  # reflectance between the levels of the fill
BRIGHT_PERCENTILE = 99.9  # valid pixels above this level are never filled
BACKGROUND_PERCENTILE = 17.5  # Fmask's no-data value: this percentile of the valid pixels


def potential_shadow(nir: np.ndarray, swir: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pixels darker than their surroundings in both NIR and SWIR.

    Args:
        nir: near-infrared reflectance (B8A), 2-D.
        swir: short-wave infrared reflectance (B11), same shape.
        valid: boolean mask of pixels with data.

    Returns:
        Boolean array, False at no data.

    """
    rows, cols = np.nonzero(valid)
    result = np.zeros(valid.shape, bool)
    if not len(rows):
        return result
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    inside = valid[box]
    rises = []
    for band in (nir[box], swir[box]):
        image = np.where(inside, band, _no_data_level(band[inside], inside))
        rises.append(flood_fill(image) - image)
    result[box] = (np.minimum(*rises) > POTENTIAL_SHADOW_RISE) & inside
    return result


def _no_data_level(values, inside):
    """The level no-data pixels take in the fill.

    Where the data reaches the raster's border, no data is a wall at the bright level, so a
    shadow cut by the swath edge still fills from its lit side. Data surrounded by no data
    could not drain at all then, so it gets Fmask's low background instead.
    """
    if any(edge.any() for edge in (inside[0], inside[-1], inside[:, 0], inside[:, -1])):
        return np.percentile(values, BRIGHT_PERCENTILE)
    return np.percentile(values, BACKGROUND_PERCENTILE)


def flood_fill(image: np.ndarray, step: float = FILL_STEP) -> np.ndarray:
    """Raise every basin of `image` to the level at which it spills to the raster's border.

    A pixel's fill is the lowest level L such that it connects (4-neighbours) to the border
    through pixels not above L. Levels are multiples of `step`, so a basin's fill exceeds the
    exact one by less than `step`; pixels above the 99.9th percentile are left as they are.

    Raises:
        DependencyMissingError: without scipy.

    """
    ndimage = scipy_ndimage()
    framed = np.pad(image.astype(np.float32), 1, constant_values=-np.inf)
    filled = np.full(framed.shape, np.nan, np.float32)
    high = np.percentile(image, BRIGHT_PERCENTILE)
    for level in np.arange(math.floor(image.min() / step) * step, high + step, step):
        labels, _count = ndimage.label(framed <= level)
        filled[(labels == labels[0, 0]) & np.isnan(filled)] = level
    filled = filled[1:-1, 1:-1]
    return np.where(np.isnan(filled), image, np.maximum(filled, image))
