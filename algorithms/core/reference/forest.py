"""The reference forest: per-pixel features, a class-balanced random forest, the ALCD rules."""

from dataclasses import dataclass, field

import numpy as np

from ..dependencies import scikit_learn_missing_message
from ..errors import DependencyMissingError
from ..sentinel2.bands import L1C_BANDS
from .classes import CLASS_NAMES, CLEAR_CLASSES, CLOUD_CLASSES, NOT_USED

NEIGHBOURHOOD_BANDS = ('B02', 'B04', 'B08', 'B10', 'B11', 'brightness')
PREDICT_BLOCK = 65536  # pixels per predict_proba call (bounds the memory of the vote shares)


@dataclass(frozen=True)
class ReferenceOptions:
    """Settings of one round; the defaults are those the committed references used."""

    trees: int = 100
    min_vote_share: float = 0.7     # cloud-vs-clear vote share below this -> not used
    boundary_ring: int = 1          # pixels each side of a cloud/clear boundary -> not used
    cirrus_limit: float = 0.0       # > 0: clear pixels with B10 above it -> not used
    min_seed_pixels: int = 20       # per class
    max_samples_per_class: int = 5000
    window: int = 5                 # neighbourhood (pixels) of the mean / std features
    seed: int = 0


@dataclass
class ForestResult:
    """Classes (ALCD codes), vote margin, and what the report tells about them."""

    classes: np.ndarray
    margin: np.ndarray
    oob_accuracy: float
    rule_pixels: dict
    feature_names: list = field(default_factory=list)


def _band(reflectance, name):
    return reflectance[L1C_BANDS.index(name)]


def _normalised_difference(a, b):
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(np.abs(a + b) > 1e-6, (a - b) / (a + b), 0.0)


def box_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of `values` [H, W] over a window x window box, NaN (no data) left out."""
    pad = window // 2
    valid = np.isfinite(values)
    sums = []
    for array in (np.where(valid, values, 0.0), valid.astype(np.float64)):
        integral = np.pad(np.pad(array, pad).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        sums.append(integral[window:, window:] - integral[:-window, window:]
                    - integral[window:, :-window] + integral[:-window, :-window])
    return sums[0] / np.maximum(sums[1], 1)


def pixel_features(reflectance: np.ndarray, window: int = 5):
    """(names, float32 [F, H, W]) of a 13-band reflectance array (L1C order, NaN = no data).

    The bands, NDVI, NDWI, NDSI, visible brightness, Fmask's whiteness, B10/B11 and the SWIR
    ratios B11/B12 and B8A/B11, and the neighbourhood mean and standard deviation of a few.
    """
    blue, green, red = (_band(reflectance, b) for b in ('B02', 'B03', 'B04'))
    nir, swir1, swir2 = (_band(reflectance, b) for b in ('B08', 'B11', 'B12'))
    brightness = (blue + green + red) / 3
    floor = 1e-4  # keeps the ratios finite over very dark water
    derived = {
        'NDVI': _normalised_difference(nir, red), 'NDWI': _normalised_difference(green, nir),
        'NDSI': _normalised_difference(green, swir1), 'brightness': brightness,
        'whiteness': (np.abs(blue - brightness) + np.abs(green - brightness)
                      + np.abs(red - brightness)) / np.maximum(brightness, floor),
        'B10/B11': _band(reflectance, 'B10') / np.maximum(swir1, floor),
        'B11/B12': swir1 / np.maximum(swir2, floor),
        'B8A/B11': _band(reflectance, 'B8A') / np.maximum(swir1, floor)}
    names, layers = list(L1C_BANDS) + list(derived), list(reflectance) + list(derived.values())
    for name in NEIGHBOURHOOD_BANDS:
        values = (derived[name] if name in derived else _band(reflectance, name)).astype(float)
        mean = box_mean(values, window)
        spread = np.sqrt(np.maximum(box_mean(values ** 2, window) - mean ** 2, 0))
        names += [f'{name} mean {window}x{window}', f'{name} std {window}x{window}']
        layers += [mean, spread]
    stack = np.stack(layers).astype(np.float32)
    return names, np.nan_to_num(stack, nan=0.0, posinf=0.0, neginf=0.0)


def boundary_ring(classes: np.ndarray, width: int) -> np.ndarray:
    """Pixels within `width` pixels (8-connected) of the other side of a cloud/clear edge."""
    cloud, clear = np.isin(classes, CLOUD_CLASSES), np.isin(classes, CLEAR_CLASSES)
    near_cloud, near_clear = cloud, clear
    for _ in range(width):
        near_cloud, near_clear = _dilate(near_cloud), _dilate(near_clear)
    return (cloud & near_clear) | (clear & near_cloud)


def _dilate(mask):
    padded = np.pad(mask, 1)
    out = np.zeros_like(mask)
    for dr in range(3):
        for dc in range(3):
            out |= padded[dr:dr + mask.shape[0], dc:dc + mask.shape[1]]
    return out


def random_forest(options: ReferenceOptions):
    """scikit-learn's class-balanced random forest (imported only here: it takes a second)."""
    try:
        from sklearn.ensemble import RandomForestClassifier
    except ImportError as error:
        raise DependencyMissingError(scikit_learn_missing_message()) from error
    return RandomForestClassifier(n_estimators=options.trees, class_weight='balanced',
                                  oob_score=True, random_state=options.seed, n_jobs=1)


def _training_samples(features, seeds, options):
    rng = np.random.default_rng(options.seed)
    indexes, targets = [], []
    for code in sorted(CLASS_NAMES):
        where = np.flatnonzero(seeds.ravel() == code)
        if len(where) > options.max_samples_per_class:
            where = np.sort(rng.choice(where, options.max_samples_per_class, replace=False))
        indexes.append(where)
        targets.append(np.full(len(where), code, np.uint8))
    flat = features.reshape(features.shape[0], -1)
    return flat[:, np.concatenate(indexes)].T, np.concatenate(targets)


def classify(reflectance: np.ndarray, seeds: np.ndarray, options: ReferenceOptions,
             run_context) -> ForestResult:
    """Train the forest on the seed pixels, classify every valid pixel, apply the rules.

    Args:
        reflectance: float32 [13, H, W] TOA reflectance (unit 1) in L1C order, NaN = no data.
        seeds: uint8 [H, W] ALCD code of the seed at each pixel, 0 elsewhere (valid pixels only).
        options: ReferenceOptions.
        run_context: RunContext (progress 0..100, cancel between prediction blocks).

    """
    forest = random_forest(options)
    valid = np.isfinite(reflectance).all(axis=0)
    names, features = pixel_features(reflectance, options.window)
    run_context.progress(20)
    forest.fit(*_training_samples(features, seeds, options))
    run_context.progress(40)
    flat = features.reshape(features.shape[0], -1)[:, valid.ravel()].T
    shares = np.zeros((len(flat), len(forest.classes_)), np.float32)
    for start in range(0, len(flat), PREDICT_BLOCK):
        run_context.raise_if_canceled()
        shares[start:start + PREDICT_BLOCK] = forest.predict_proba(
            flat[start:start + PREDICT_BLOCK])
        run_context.progress(40 + 55 * min(1.0, (start + PREDICT_BLOCK) / max(len(flat), 1)))
    classes, margin, rules = apply_rules(forest.classes_, shares, valid, reflectance, options)
    return ForestResult(classes, margin, float(forest.oob_score_), rules, names)


def apply_rules(codes, shares, valid, reflectance, options):
    """(classes, margin, pixels per rule) from the forest's vote shares of the valid pixels.

    The winning class per pixel, then 1 (not used) where the cloud-vs-clear vote share is
    below options.min_vote_share, in the ring at cloud/clear boundaries and, with
    options.cirrus_limit, on clear pixels whose B10 exceeds it. The margin is the vote share
    of the winning class minus that of the runner-up (low: add seeds there next round).
    """
    ordered = np.sort(shares, axis=1)
    cloud_share = shares[:, np.isin(codes, CLOUD_CLASSES)].sum(axis=1)
    classes = np.zeros(valid.shape, np.uint8)
    classes[valid] = codes[np.argmax(shares, axis=1)]
    margin = np.full(valid.shape, np.nan, np.float32)
    margin[valid] = ordered[:, -1] - (ordered[:, -2] if shares.shape[1] > 1 else 0)
    unsure = np.zeros(valid.shape, bool)
    unsure[valid] = np.maximum(cloud_share, 1 - cloud_share) < options.min_vote_share
    ring = boundary_ring(classes, options.boundary_ring) & ~unsure
    rules = {f'cloud-vs-clear vote share below {options.min_vote_share:g}': int(unsure.sum()),
             f'{options.boundary_ring}-pixel ring at cloud/clear boundaries': int(ring.sum())}
    marked = unsure | ring
    if options.cirrus_limit > 0:
        with np.errstate(invalid='ignore'):
            cirrus = (np.isin(classes, CLEAR_CLASSES) & ~marked
                      & (_band(reflectance, 'B10') > options.cirrus_limit))
        rules[f'clear but B10 above {options.cirrus_limit:g} (cirrus seen only in B10)'] = int(
            cirrus.sum())
        marked |= cirrus
    classes[marked] = NOT_USED
    return classes, margin, rules
