"""Synthetic clouds composited on real L1C scenes, with exact labels.

Physical model (one plane-parallel cloud layer over a Lambertian surface):

* Cloud optical thickness tau(x, y) comes from fractal noise (octaves of Gaussian-smoothed
  white noise): cumulus fields (thick cores, thin edges), thin low layers, and cirrus streaks
  (anisotropic noise).
* Cloud reflectance and transmittance follow the two-stream solution for a conservative
  scatterer: R = (1 - g) tau / (2 + (1 - g) tau), T = 1 - R, with asymmetry g = 0.85 for
  water droplets and 0.8 for ice.
* Per band, the cloud's own reflectance is k_band * R: k = 1 in the visible and NIR; below 1
  where water or ice absorb (B11, B12) and where water vapour above the cloud absorbs (B09,
  and B10 at 1375 nm, which sees a high cirrus almost fully but a low cloud only weakly).
* TOA reflectance = k R + T^2 rho_s / (1 - R rho_s) (cloud over surface, multiple bounces),
  rho_s being the real scene's reflectance. Shadows are not modelled (they are clear anyway).

Labels: cloud where tau >= 0.5 (cloud reflectance >= 3.6 % for water, 4.8 % for ice: a thin
but visible cloud), the scene's own label where tau = 0, unknown in between.
"""

import numpy as np
from scipy import ndimage

from algorithms.core.sentinel2.bands import L1C_BANDS

from .patches import CLOUD, IGNORED, LabelledImage

CLOUD_TAU = 0.5
# k per band in L1C_BANDS order (B01..B08, B8A, B09, B10, B11, B12).
WATER_K = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0.75, 0.15, 0.75, 0.5], np.float32)
ICE_K = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0.95, 0.9, 0.55, 0.35], np.float32)
# name: (asymmetry g, k per band, (min, max) peak optical thickness, coverage range,
#        largest noise scale in pixels, along-streak stretch)
CLOUD_TYPES = {
    'cumulus': (0.85, WATER_K, (3.0, 60.0), (0.1, 0.5), 8, 1.0),
    'thin_low': (0.85, WATER_K, (0.6, 4.0), (0.2, 0.7), 32, 1.0),
    'cirrus': (0.8, ICE_K, (0.4, 3.0), (0.2, 0.7), 16, 6.0),
    'haze': (0.85, WATER_K, (0.5, 1.5), (0.5, 0.9), 32, 1.0),
}
# Haze settles preferably over bright ground: the scene's standardised visible brightness is
# added to its noise with this weight, so thin layers cover bright soil and sediment (where
# detectors confuse surface and cloud) more often than chance would.
BRIGHT_WEIGHT = {'haze': 1.5}
# The types `make train` uses: adding haze raised commission on bright land on the held-out
# reference rows (models/README.md), so it is measured but not used by default.
DEFAULT_TYPES = ('cirrus', 'cumulus', 'thin_low')


def _fractal_noise(shape, rng, largest, stretch):
    # Streaks run along rows or columns at random.
    along = (1.0, stretch) if rng.random() < 0.5 else (stretch, 1.0)
    noise = np.zeros(shape, np.float32)
    for sigma in (1, 2, 4, 8, 16, 32)[:int(np.log2(largest)) + 1]:
        layer = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32),
                                        (sigma * along[0], sigma * along[1]))
        noise += sigma * layer / (layer.std() + 1e-9)
    return noise


def optical_thickness(shape, rng, cloud_type, brightness=None):
    """Draw a random optical thickness field tau [H, W] of one cloud type (0: no cloud).

    `brightness` [H, W] (the scene's visible reflectance) steers the types of BRIGHT_WEIGHT.
    """
    _, _, (tau_low, tau_high), (cover_low, cover_high), largest, stretch = CLOUD_TYPES[cloud_type]
    noise = _fractal_noise(shape, rng, largest, stretch)
    if brightness is not None and cloud_type in BRIGHT_WEIGHT:
        standard = (brightness - np.nanmean(brightness)) / (np.nanstd(brightness) + 1e-9)
        noise += BRIGHT_WEIGHT[cloud_type] * noise.std() * np.nan_to_num(standard)
    cover = rng.uniform(cover_low, cover_high)
    threshold = np.quantile(noise, 1 - cover)
    shape_field = np.clip((noise - threshold) / (noise.max() - threshold), 0, 1) ** 0.7
    peak = np.exp(rng.uniform(np.log(tau_low), np.log(tau_high)))
    return (peak * shape_field).astype(np.float32)


def composite(reflectance, tau, cloud_type):
    """TOA reflectance [13, H, W] of the scene seen through a cloud of thickness `tau`."""
    g, k = CLOUD_TYPES[cloud_type][:2]
    scaled = (1 - g) * tau
    cloud_r = scaled / (2 + scaled)
    transmit = 1 - cloud_r
    surface = np.nan_to_num(reflectance, nan=0.0)
    toa = k[:, None, None] * cloud_r + transmit ** 2 * surface / (1 - cloud_r * surface)
    return np.where(np.isnan(reflectance), np.nan, toa).astype(np.float32)


def synthetic_images(image, count, seed, types=None):
    """`count` copies of a 13-band LabelledImage, each under a random synthetic cloud layer.

    The layers cycle through `types` (default: DEFAULT_TYPES), sorted.
    """
    if image.reflectance.shape[0] != len(L1C_BANDS):
        raise ValueError('synthetic clouds need the 13 L1C bands (B10 included)')
    rng = np.random.default_rng(seed)
    types = sorted(types or DEFAULT_TYPES)
    images = []
    for index in range(count):
        cloud_type = types[index % len(types)]
        tau = optical_thickness(image.labels.shape, rng, cloud_type,
                                image.reflectance[1:4].mean(axis=0))
        labels = np.where(tau == 0, image.labels, IGNORED).astype(np.int8)
        labels[(tau >= CLOUD_TAU) & np.isfinite(image.reflectance).all(axis=0)] = CLOUD
        images.append(LabelledImage(f'{image.name} + synthetic {cloud_type} {index}',
                                    composite(image.reflectance, tau, cloud_type), labels,
                                    source='synthetic'))
    return images
