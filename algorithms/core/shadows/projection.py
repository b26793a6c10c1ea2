"""Cast each cloud object's shadow at the height where it best matches potential shadow.

A cloud at height h is seen, in an image orthorectified to the ground, h tan(view zenith)
away from the satellite from the point under it; its shadow falls h tan(sun zenith) away
from the sun from that point. From where the cloud is seen to its shadow: h (v - s), v and s
the unit vectors towards the satellite and the sun scaled by the tangents of their zenith
angles (shadow_shift). For each cloud object (8-connected cloud pixels, angles taken at its
centre) heights from 200 m to 12 km are tried, every whole-pixel shift on the way; the
similarity at a height is the share of the shifted object's pixels (inside the raster, with
data, not the object itself) that are potential shadow or cloud, since a shadow may fall
under another cloud. Heights are scanned upwards and the scan stops once the similarity
drops below 98 % of the best so far; the best height is kept when its similarity is at least
0.3 (Fmask's rule, Zhu & Woodcock 2012). The shadow is the object's projection there.
"""

from dataclasses import dataclass, field

import numpy as np

from ..run import context_or_silent
from ..sentinel2.angles import SunView, horizontal
from . import scipy_ndimage

MIN_HEIGHT_M, MAX_HEIGHT_M = 200.0, 12000.0
MIN_SIMILARITY = 0.3
STOP_RATIO = 0.98
MIN_OBJECT_PIXELS = 3  # smaller objects match noise anywhere: no shadow cast


def shadow_shift(sun_view: SunView, height_m: float) -> 'tuple[float, float]':
    """(east, north) metres from where a cloud at `height_m` is seen to where its shadow is."""
    view = horizontal(sun_view.view_zenith, sun_view.view_azimuth)
    sun = horizontal(sun_view.sun_zenith, sun_view.sun_azimuth)
    return height_m * (view[0] - sun[0]), height_m * (view[1] - sun[1])


@dataclass
class ShadowMatch:
    """Shadow pixels and what each cloud object matched.

    Attributes:
        shadow: boolean array (no cloud or no-data pixel is shadow).
        objects: number of cloud objects.
        heights_m: the chosen height of each object that cast a shadow.
        similarities: their similarity (share of matched pixels).

    """

    shadow: np.ndarray
    objects: int = 0
    heights_m: list = field(default_factory=list)
    similarities: list = field(default_factory=list)


def match_shadows(cloud, valid, potential, geotransform, sun_view_at,
                  heights=(MIN_HEIGHT_M, MAX_HEIGHT_M), run_context=None):
    """Cast every cloud object's shadow (see the module docstring).

    Args:
        cloud: boolean cloud mask.
        valid: boolean mask of pixels with data.
        potential: boolean potential-shadow mask (potential.potential_shadow).
        geotransform: the grid's GDAL geotransform (north up).
        sun_view_at: callable(x, y) -> SunView at map coordinates.
        heights: (lowest, highest) cloud height tried, metres.
        run_context: optional RunContext; cancel is checked between objects.

    Returns:
        ShadowMatch.

    Raises:
        CancelledError, DependencyMissingError (no scipy).

    """
    run = context_or_silent(run_context)
    ndimage = scipy_ndimage()
    labels, count = ndimage.label(cloud, structure=np.ones((3, 3), bool))
    result = ShadowMatch(np.zeros(cloud.shape, bool), count)
    masks = (labels, valid, potential | cloud)
    for number, where in enumerate(ndimage.find_objects(labels), start=1):
        run.raise_if_canceled('cancelled; no output was written')
        rows, cols = np.nonzero(labels[where] == number)
        if len(rows) < MIN_OBJECT_PIXELS:
            continue
        rows, cols = rows + where[0].start, cols + where[1].start
        x = geotransform[0] + (cols.mean() + 0.5) * geotransform[1]
        y = geotransform[3] + (rows.mean() + 0.5) * geotransform[5]
        steps = _shifts(shadow_shift(sun_view_at(x, y), 1.0), geotransform, heights)
        match = _best_match((rows, cols, number), steps, masks)
        if match is not None:
            height, similarity, (shadow_rows, shadow_cols) = match
            result.shadow[shadow_rows, shadow_cols] = True
            result.heights_m.append(height)
            result.similarities.append(similarity)
    result.shadow &= valid & ~cloud
    return result


def _shifts(per_metre, geotransform, heights):
    """[(height, row shift, column shift)]: every whole-pixel shift the heights pass through.

    Heights advance by half a pixel of the faster-moving axis, so no pixel on the shadow's
    path is skipped; a height giving the same shift as the one before it is dropped.
    """
    rows_per_metre = per_metre[1] / geotransform[5]
    cols_per_metre = per_metre[0] / geotransform[1]
    fastest = max(abs(rows_per_metre), abs(cols_per_metre))
    if fastest == 0:
        return []
    steps, previous = [], None
    for height in np.arange(heights[0], heights[1], 0.5 / fastest):
        shift = (int(round(height * rows_per_metre)), int(round(height * cols_per_metre)))
        if shift != previous:
            steps.append((float(height), *shift))
            previous = shift
    return steps


def _best_match(cloud_object, steps, masks):
    """(height, similarity, (rows, cols)) of the matched projection, or None."""
    rows, cols, number = cloud_object
    labels, valid, target = masks
    best = None
    for height, row_shift, col_shift in steps:
        r, c = rows + row_shift, cols + col_shift
        inside = (r >= 0) & (r < valid.shape[0]) & (c >= 0) & (c < valid.shape[1])
        r, c = r[inside], c[inside]
        counted = valid[r, c] & (labels[r, c] != number)
        if not counted.any():
            if best is not None:
                break  # the projection has left the data
            continue
        similarity = float(target[r, c][counted].mean())
        if best is None or similarity > best[1]:
            best = (height, similarity, (r, c))
        elif similarity < STOP_RATIO * best[1] and best[1] >= MIN_SIMILARITY:
            break
    return best if best is not None and best[1] >= MIN_SIMILARITY else None

