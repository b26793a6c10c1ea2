"""Labels for real L1C scenes without a reference mask: where two independent detectors agree.

Detector 1 is s2cloudless (Sentinel Hub; a LightGBM pixel classifier trained on MAJA masks,
shipped with its model, run here on its raw per-pixel probability). Detector 2 is the
potential-cloud-pixel test of Fmask (Zhu & Woodcock 2012) in its Sentinel-2 form without the
thermal band, plus the 1375 nm cirrus test. A pixel is labelled only where both are confident
and agree; everything else, and a one-pixel rim around each labelled class, is left unknown.
"""

import numpy as np
from scipy import ndimage

from algorithms.core.sentinel2.bands import L1C_BANDS

from .patches import CLEAR, CLOUD, IGNORED

S2CLOUDLESS_CLOUD = 0.7   # s2cloudless's own mask threshold is 0.4: stay well above it
S2CLOUDLESS_CLEAR = 0.15  # ... and well below it
HOT_MARGIN = 0.02         # distance from the Fmask HOT threshold that counts as confident
CIRRUS_CLOUD = 0.03       # B10 above this is cirrus almost anywhere (Fmask 4 scales by 0.04)
CIRRUS_CLEAR = 0.01


def _band(reflectance, name):
    return reflectance[L1C_BANDS.index(name)]


def s2cloudless_probability(reflectance):
    """s2cloudless's per-pixel cloud probability of a 13-band reflectance array [13, H, W]."""
    from s2cloudless import S2PixelCloudDetector

    detector = S2PixelCloudDetector(all_bands=True, average_over=None, dilation_size=None)
    data = np.nan_to_num(reflectance, nan=0.0).transpose(1, 2, 0)[np.newaxis]
    return detector.get_cloud_probability_maps(data.astype(np.float32))[0]


def fmask_tests(reflectance):
    """Return (confident cloud, confident clear) boolean maps of the rule-based detector.

    Cloud: Fmask's potential cloud pixel (SWIR2 > 0.03, NDSI < 0.8, NDVI < 0.8, whiteness
    < 0.7, NIR/SWIR1 > 0.75, haze-optimised transform HOT > margin) or thick cirrus
    (B10 > 0.03). Clear: Fmask's own decision (not a potential cloud pixel at HOT > 0) and no
    cirrus (B10 < 0.01); the confidence margin of the clear label lies on the s2cloudless side.
    """
    with np.errstate(invalid='ignore', divide='ignore'):
        blue, green, red = (_band(reflectance, b) for b in ('B02', 'B03', 'B04'))
        nir, swir1, swir2 = (_band(reflectance, b) for b in ('B08', 'B11', 'B12'))
        cirrus = _band(reflectance, 'B10')
        ndsi = (green - swir1) / (green + swir1)
        ndvi = (nir - red) / (nir + red)
        visible = (blue + green + red) / 3
        whiteness = (np.abs(blue - visible) + np.abs(green - visible) +
                     np.abs(red - visible)) / visible
        hot = blue - 0.5 * red - 0.08
        basic = (swir2 > 0.03) & (ndsi < 0.8) & (ndvi < 0.8)
        potential = basic & (whiteness < 0.7) & (nir / swir1 > 0.75)
        cloud = (potential & (hot > HOT_MARGIN)) | (cirrus > CIRRUS_CLOUD)
        clear = ~(potential & (hot > 0)) & (cirrus < CIRRUS_CLEAR)
    return cloud, clear


def agreement_labels(reflectance, erode=1):
    """Int8 labels (1 cloud, 0 clear, -1 unknown) where both detectors confidently agree.

    Returns:
        (labels, details): details holds the s2cloudless probability and the pixel counts.

    """
    probability = s2cloudless_probability(reflectance)
    rule_cloud, rule_clear = fmask_tests(reflectance)
    valid = np.isfinite(reflectance).all(axis=0)
    cloud = valid & rule_cloud & (probability >= S2CLOUDLESS_CLOUD)
    clear = valid & rule_clear & (probability <= S2CLOUDLESS_CLEAR)
    if erode:
        # Mixed pixels at class edges are the least certain: drop them.
        structure = np.ones((3, 3), bool)
        cloud = ndimage.binary_erosion(cloud, structure, iterations=erode)
        clear = ndimage.binary_erosion(clear, structure, iterations=erode)
    labels = np.full(valid.shape, IGNORED, np.int8)
    labels[cloud] = CLOUD
    labels[clear] = CLEAR
    details = {'s2cloudless_probability': probability, 'valid': int(valid.sum()),
               'cloud': int(cloud.sum()), 'clear': int(clear.sum()),
               'disagree': int((valid & ((rule_cloud & (probability <= S2CLOUDLESS_CLEAR)) |
                                         (rule_clear & (probability >= S2CLOUDLESS_CLOUD))))
                               .sum())}
    return labels, details
