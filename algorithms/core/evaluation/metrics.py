"""Class mappings (raster values -> cloud / clear / ignored) and binary cloud-detection metrics."""

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import MappingError

CLOUD, CLEAR, IGNORED = 1, 0, -1


def parse_values(text: str, what: str = 'values') -> list:
    """Parse '2, 3, 8-10' into a frozenset of integers.

    Args:
        text: comma- or space-separated integers and inclusive ranges 'a-b'.
        what: how the list is called in error messages.

    Raises:
        MappingError: if an item is not an integer or a range.

    """
    values = set()
    for item in re.split(r'[,;\s]+', (text or '').strip()):
        if not item:
            continue
        match = re.fullmatch(r'(-?\d+)(?:-(-?\d+))?', item)
        if not match:
            raise MappingError(f'{what}: {item!r} is not an integer or a range like 8-10; '
                               'write values as "2, 3" or "8-10"')
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if high < low:
            raise MappingError(f'{what}: range {item!r} runs backwards; write it as {high}-{low}')
        values.update(range(low, high + 1))
    return frozenset(values)


@dataclass(frozen=True)
class ClassMapping:
    """How a raster's values become cloud (1), clear (0) or ignored (-1).

    Attributes:
        name: shown in reports.
        cloud: values that mean cloud.
        clear: values that mean clear.
        ignore: values never evaluated (no data), whatever `other` says.
        other: what every value in no set means: IGNORED, or CLEAR (Fmask: 'the rest').
        threshold: if set, the raster is a probability: cloud where value >= threshold, clear
            below; `cloud`/`clear` are then unused.
        notes: one line explaining the choices, shown in reports.
        labels: (value, class name) pairs of a known product, for per-class reports.

    """

    name: str
    cloud: frozenset = field(default_factory=frozenset)
    clear: frozenset = field(default_factory=frozenset)
    ignore: frozenset = field(default_factory=frozenset)
    other: int = IGNORED
    threshold: float = None
    notes: str = ''
    labels: tuple = ()

    def __post_init__(self):
        """Refuse mappings that cannot classify anything or contradict themselves."""
        if self.threshold is not None:
            if not math.isfinite(self.threshold):
                raise MappingError(f'{self.name}: the probability threshold must be a number')
            return
        if not self.cloud:
            raise MappingError(f'{self.name}: no value is mapped to cloud; give the cloud values')
        if not self.clear and self.other != CLEAR:
            raise MappingError(f'{self.name}: no value is mapped to clear; give the clear values')
        for first, second, label in ((self.cloud, self.clear, 'cloud and clear'),
                                     (self.cloud | self.clear, self.ignore, 'used and ignored')):
            both = sorted(first & second)
            if both:
                raise MappingError(f'{self.name}: value(s) {both} are listed as both {label}; '
                                   'remove them from one of the lists')

    def describe(self):
        """One line for reports, e.g. 'cloud 2, 3; clear 4-7; other values ignored'."""
        if self.threshold is not None:
            return f'probability: cloud where value >= {self.threshold:g}, clear below'
        other = 'other values clear' if self.other == CLEAR else 'other values ignored'
        ignored = f'; ignored {_ranges(self.ignore)}' if self.ignore else ''
        return f'cloud {_ranges(self.cloud)}; clear {_ranges(self.clear) or "-"}{ignored}; {other}'

    def meaning(self, value):
        """'cloud', 'clear' or 'ignored' for one raster value (class-coded mappings)."""
        if value in self.ignore:
            return 'ignored'
        if value in self.cloud:
            return 'cloud'
        return 'clear' if value in self.clear or self.other == CLEAR else 'ignored'

    def classify(self, values, nodata=None):
        """Return an int8 array of CLOUD / CLEAR / IGNORED for a block of raster values.

        The band's no-data value and NaN are always ignored.
        """
        values = np.asarray(values)
        if self.threshold is not None:
            result = np.where(values >= self.threshold, CLOUD, CLEAR).astype(np.int8)
        elif values.dtype.kind == 'u' and values.dtype.itemsize <= 2:
            result = _lookup_table(self, values.dtype.itemsize)[values]  # fast path: Byte/UInt16
        else:
            result = np.full(values.shape, self.other, dtype=np.int8)
            result[np.isin(values, list(self.cloud))] = CLOUD
            result[np.isin(values, list(self.clear))] = CLEAR
            result[np.isin(values, list(self.ignore))] = IGNORED
        invalid = ~np.isfinite(values) if values.dtype.kind == 'f' else np.zeros(values.shape, bool)
        if nodata is not None and math.isfinite(nodata):
            invalid |= values == nodata
        result[invalid] = IGNORED
        return result


@functools.lru_cache(maxsize=16)
def _lookup_table(mapping, itemsize):
    """Return the class of every value of an unsigned 1- or 2-byte raster, as an int8 array."""
    table = mapping.classify(np.arange(256 ** itemsize, dtype=np.int64))
    table.flags.writeable = False
    return table


def _ranges(values):
    """'2, 3, 8-10' for {2, 3, 8, 9, 10}."""
    runs = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ', '.join(str(low) if low == high else f'{low}, {high}' if high == low + 1
                     else f'{low}-{high}' for low, high in runs)


PRESETS = {
    'mask': ClassMapping('Cloud mask (0 clear, 1 cloud, 255 no data)', frozenset({1}),
                         frozenset({0}), frozenset({255}),
                         notes='the mask this plugin writes; any other value is not evaluated',
                         labels=((0, 'clear'), (1, 'cloud'))),
    'alcd': ClassMapping('ALCD reference classes', frozenset({2, 3}), frozenset({4, 5, 6, 7}),
                         frozenset({0, 1}),
                         notes='2 low and 3 high clouds are cloud; 4 cloud shadows, 5 land, '
                               '6 water, 7 snow are clear; 0 no data and 1 not used are ignored',
                         labels=((2, 'low clouds'), (3, 'high clouds'), (4, 'cloud shadows'),
                                 (5, 'land'), (6, 'water'), (7, 'snow'))),
    'scl': ClassMapping('Sen2Cor scene classification (SCL)', frozenset({8, 9, 10}),
                        frozenset({2, 3, 4, 5, 6, 7, 11}), frozenset({0, 1}),
                        notes='8/9 cloud medium/high probability and 10 thin cirrus are cloud; '
                              '2 dark area, 3 cloud shadow, 4 vegetation, 5 not vegetated, '
                              '6 water, 7 unclassified and 11 snow/ice are clear (shadow and snow '
                              'are not cloud); 0 no data and 1 saturated/defective are ignored',
                        labels=((2, 'dark area'), (3, 'cloud shadow'), (4, 'vegetation'),
                                (5, 'not vegetated'), (6, 'water'), (7, 'unclassified'),
                                (8, 'cloud medium prob.'), (9, 'cloud high prob.'),
                                (10, 'thin cirrus'), (11, 'snow/ice'))),
    'fmask': ClassMapping('Fmask', frozenset({4}), frozenset({0, 1, 2, 3}), frozenset({255}),
                          other=CLEAR,
                          notes='4 cloud is cloud; 0 clear land, 1 water, 2 shadow, 3 snow and '
                                'any other value are clear; 255 no data is ignored',
                          labels=((0, 'clear land'), (1, 'water'), (2, 'cloud shadow'),
                                  (3, 'snow'), (4, 'cloud'))),
}
_MASK_LABELS = ((0, 'clear'), (1, 'cloud'), (2, 'cloud shadow'))
_ALCD_LABELS = PRESETS['alcd'].labels
# Shadow scores: the positive ('cloud') class of these mappings is shadow, or cloud or shadow.
PRESETS.update({
    'mask_shadow': ClassMapping(
        'Cloud and shadow mask, positive class shadow', frozenset({2}), frozenset({0, 1}),
        frozenset({255}), notes='2 shadow is positive; 0 clear and 1 cloud are negative; '
                                '255 no data is ignored', labels=_MASK_LABELS),
    'alcd_shadow': ClassMapping(
        'ALCD reference, positive class shadow', frozenset({4}), frozenset({2, 3, 5, 6, 7}),
        frozenset({0, 1}), notes='4 cloud shadows is positive; 2, 3 clouds, 5 land, 6 water, '
                                 '7 snow are negative; 0 and 1 are ignored', labels=_ALCD_LABELS),
    'mask_cloud_or_shadow': ClassMapping(
        'Cloud and shadow mask, positive class cloud or shadow', frozenset({1, 2}),
        frozenset({0}), frozenset({255}), notes='1 cloud and 2 shadow are positive; 0 clear is '
                                                'negative; 255 no data is ignored',
        labels=_MASK_LABELS),
    'alcd_cloud_or_shadow': ClassMapping(
        'ALCD reference, positive class cloud or shadow', frozenset({2, 3, 4}),
        frozenset({5, 6, 7}), frozenset({0, 1}),
        notes='2, 3 clouds and 4 cloud shadows are positive; 5 land, 6 water, 7 snow are '
              'negative; 0 and 1 are ignored', labels=_ALCD_LABELS),
})
# New presets go at the end: saved models and scripts refer to a preset by its index.
PRESET_KEYS = ('mask', 'alcd', 'scl', 'fmask', 'probability', 'custom', 'mask_shadow',
               'alcd_shadow', 'mask_cloud_or_shadow', 'alcd_cloud_or_shadow')


def mapping_for(preset: str, cloud_text: str = '', clear_text: str = '',
                threshold: float = 0.5) -> 'ClassMapping':
    """Build the ClassMapping a user chose.

    Args:
        preset: one of PRESET_KEYS.
        cloud_text: cloud values for 'custom' (see parse_values).
        clear_text: clear values for 'custom'.
        threshold: probability threshold for 'probability'.

    Raises:
        MappingError: on an unknown preset or an empty or contradictory custom mapping.

    """
    if preset in PRESETS:
        return PRESETS[preset]
    if preset == 'probability':
        return ClassMapping('Cloud probability', threshold=float(threshold))
    if preset == 'custom':
        return ClassMapping('Custom values', parse_values(cloud_text, 'cloud values'),
                            parse_values(clear_text, 'clear values'),
                            notes='values in neither list are not evaluated')
    raise MappingError(f'unknown class preset {preset!r}; use one of {", ".join(PRESET_KEYS)}')


def _ratio(numerator, denominator, when_empty):
    """Return numerator / denominator, or `when_empty` where the denominator is 0."""
    return numerator / denominator if denominator else when_empty


@dataclass(frozen=True)
class Confusion:
    """Pixel counts with cloud as the positive class, and the ratios derived from them.

    Conventions where a denominator is zero (a class absent), so that every ratio is defined
    and a perfect answer scores 1: recall is 1 when the reference has no cloud (nothing to
    miss), precision is 1 when nothing was called cloud (no false alarm), F is 0 when
    precision + recall is 0, IoU is 1 when neither has cloud, kappa is 1 when both are one
    and the same single class. With no pixel at all every ratio is NaN.
    """

    tp: int = 0
    tn: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other):
        return Confusion(self.tp + other.tp, self.tn + other.tn,
                         self.fp + other.fp, self.fn + other.fn)

    @property
    def total(self):
        """Number of evaluated pixels."""
        return self.tp + self.tn + self.fp + self.fn

    @property
    def accuracy(self):
        """(TP + TN) / all."""
        return _ratio(self.tp + self.tn, self.total, math.nan)

    @property
    def recall(self):
        """TP / (TP + FN) = 1 - omission."""
        return _ratio(self.tp, self.tp + self.fn, 1.0 if self.total else math.nan)

    @property
    def precision(self):
        """TP / (TP + FP) = 1 - commission."""
        return _ratio(self.tp, self.tp + self.fp, 1.0 if self.total else math.nan)

    @property
    def fscore(self):
        """2 P R / (P + R)."""
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r, 0.0) if self.total else math.nan

    @property
    def iou(self):
        """TP / (TP + FP + FN), the Jaccard index of the cloud class."""
        return _ratio(self.tp, self.tp + self.fp + self.fn, 1.0 if self.total else math.nan)

    @property
    def kappa(self):
        """Cohen's kappa: agreement beyond chance, (po - pe) / (1 - pe)."""
        n = self.total
        if not n:
            return math.nan
        observed = (self.tp + self.tn) / n
        chance = ((self.tp + self.fp) * (self.tp + self.fn)
                  + (self.tn + self.fn) * (self.tn + self.fp)) / (n * n)
        return (observed - chance) / (1 - chance) if chance < 1 else 1.0

    def metrics(self):
        """Ratios and counts as a dict keyed like the algorithms' outputs (lower case)."""
        return {name: getattr(self, name) for name in METRIC_NAMES + COUNT_NAMES}


METRIC_NAMES = ('accuracy', 'recall', 'precision', 'fscore', 'iou', 'kappa')
COUNT_NAMES = ('tp', 'tn', 'fp', 'fn')
