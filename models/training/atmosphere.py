"""Clear-sky variants of a real scene: other atmospheres and other illumination.

Two free scenes teach their own sky. Over humid Betsiboka the 945 nm band B09 is about 10 % of
B8A over land but about 35 % over cloud tops, which lie above most of the water vapour; in the
December 2015 strip land reaches 22 %. A model trained on one scene learns that ratio as a cloud
test, and under a drier sky it calls bright land cloud (`cross_scene.py` measures it). The
variants break such shortcuts with physics the model cannot learn from two skies:

* Atmosphere (clear pixels keep their label; cloud pixels become unlabelled, since a cloud
  top above the vapour would not change the same way):
  - B09 = t * B8A, with t ~ U(0.10, 0.45): the two-way water-vapour transmittance at 945 nm
    from a humid tropical to a dry mid-latitude sky. B09 / B8A is the ratio the water-vapour
    retrievals of Sen2Cor and MAJA read.
  - B10 += s * B11, with s ~ U(0, 0.02): in a dry sky a little surface signal reaches 1375 nm.
    This is why the cirrus test of Fmask (Zhu et al. 2015) needs a threshold.
  - B01 *= exp(U(-0.2, 0.2)): aerosol scattering at 443 nm varies with the air mass.
* Illumination (every label kept): the whole image times g, log-uniform in (0.6, 1.4). Sun
  elevation and view geometry make ground and clouds brighter or darker together.

Synthetic clouds (synthetic.py) are then composited on each variant too, so clouds are seen
over every sky.
"""

import numpy as np

from algorithms.core.sentinel2.bands import L1C_BANDS

from .patches import CLOUD, IGNORED, LabelledImage

B01, B8A, B09, B10, B11 = (L1C_BANDS.index(band) for band in ('B01', 'B8A', 'B09', 'B10', 'B11'))
VAPOUR_TRANSMITTANCE = (0.10, 0.45)
B10_SURFACE_SHARE = 0.02
AEROSOL_LOG_RANGE = 0.2
ILLUMINATION_GAIN = (0.6, 1.4)
# The variants' labels are a real reference's, but on changed pixels: pooled apart.
SOURCE = 'sky variant'


def atmosphere_variant(image: LabelledImage, rng: np.random.Generator,
                       index: int) -> LabelledImage:
    """`image` under another clear sky (water vapour, 1375 nm leak, aerosol); clear labels only."""
    reflectance = image.reflectance.copy()
    reflectance[B09] = reflectance[B8A] * rng.uniform(*VAPOUR_TRANSMITTANCE)
    reflectance[B10] += reflectance[B11] * rng.uniform(0, B10_SURFACE_SHARE)
    reflectance[B01] *= np.exp(rng.uniform(-AEROSOL_LOG_RANGE, AEROSOL_LOG_RANGE))
    labels = np.where(image.labels == CLOUD, IGNORED, image.labels).astype(np.int8)
    return LabelledImage(f'{image.name} + atmosphere {index}', reflectance.astype(np.float32),
                         labels, SOURCE)


def illumination_variant(image: LabelledImage, rng: np.random.Generator,
                         index: int) -> LabelledImage:
    """`image` brighter or darker as a whole (labels kept)."""
    gain = np.exp(rng.uniform(*np.log(ILLUMINATION_GAIN)))
    return LabelledImage(f'{image.name} + illumination {index}',
                         (image.reflectance * gain).astype(np.float32), image.labels.copy(),
                         SOURCE)


def sky_variants(image: LabelledImage, atmospheres: int, illuminations: int,
                 seed: int) -> list:
    """`atmospheres` atmosphere and `illuminations` illumination variants of a 13-band image."""
    if image.reflectance.shape[0] != len(L1C_BANDS):
        raise ValueError('sky variants need the 13 L1C bands in L1C_BANDS order')
    rng = np.random.default_rng(seed)
    return ([atmosphere_variant(image, rng, index) for index in range(atmospheres)]
            + [illumination_variant(image, rng, index) for index in range(illuminations)])
