"""Which method each prediction belongs to (a methods table) and which ground truth it pairs with.

A method is one row of a table: its name, a file name pattern choosing its predictions among
all those given, and its classes. A ground truth pairs with every prediction whose file name is
its own, or its own followed by a separator and a suffix.
"""

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import MappingError, MethodTableError, PairingError
from .metrics import PRESET_KEYS, ClassMapping, mapping_for

TABLE_COLUMNS = ('method', 'predictions (file name pattern)', 'classes (preset number or key)',
                 'cloud values (custom)', 'clear values (custom)', 'threshold (probability)')
DEFAULT_TABLE = ('CNN', '*', 'mask', '', '', '')


@dataclass(frozen=True)
class Method:
    """One method: its name, the pattern choosing its predictions, its classes, its files."""

    name: str
    pattern: str
    mapping: ClassMapping
    predictions: tuple = ()


def _cell(value) -> str:
    """A table cell as text; qgis_process turns '0' into 0.0, which means '0' again."""
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _preset(text: str, where: str) -> str:
    key = text.lower()
    if key.isdigit() and int(key) < len(PRESET_KEYS):
        return PRESET_KEYS[int(key)]
    if key in PRESET_KEYS:
        return key
    raise MethodTableError(f'{where}: classes {text!r} is not a preset; give its number '
                           f'0-{len(PRESET_KEYS) - 1} or its key ({", ".join(PRESET_KEYS)})')


def _method(cells: Sequence[str], where: str) -> Method:
    name, pattern, classes, cloud, clear, threshold = cells
    if not name or not pattern or not classes:
        raise MethodTableError(f'{where}: give the method\'s name, the pattern of its '
                               'predictions\' file names (e.g. *_cnn.tif) and its classes')
    try:
        limit = float(threshold) if threshold else 0.5
    except ValueError:
        raise MethodTableError(f'{where}: threshold {threshold!r} is not a number; give one '
                               'like 0.5, or leave it empty') from None
    try:
        mapping = mapping_for(_preset(classes, where), cloud, clear, limit)
    except MappingError as error:
        raise MethodTableError(f'{where}: {error}') from error
    return Method(name, pattern, mapping)


def methods_from_table(cells: Sequence) -> list:
    """Read the methods table, given row by row as one flat list of cells.

    Args:
        cells: len(TABLE_COLUMNS) cells per row: name, file name pattern, classes (a preset
            number or key of metrics.PRESET_KEYS), custom cloud and clear values, threshold.
            Empty threshold means 0.5.

    Returns:
        Methods without predictions, in table order.

    Raises:
        MethodTableError: if the table is empty or cut, a row is incomplete or unusable, or two
            rows share a name.

    """
    width = len(TABLE_COLUMNS)
    cells = [_cell(value) for value in cells or ()]
    if not cells or len(cells) % width:
        raise MethodTableError(f'the methods table has {len(cells)} cells; give {width} per '
                               f'method ({", ".join(TABLE_COLUMNS)}), empty ones included')
    methods = []
    for start in range(0, len(cells), width):
        row = cells[start:start + width]
        method = _method(row, f'method row {start // width + 1} ({row[0] or "no name"})')
        if method.name in {m.name for m in methods}:
            raise MethodTableError(f'two methods are named {method.name!r}; give each row its '
                                   'own name')
        methods.append(method)
    return methods


def matches(pattern: str, path: str) -> bool:
    """Whether `path` fits `pattern`, case-insensitively.

    A pattern with a slash is matched against the whole path (`*/scl/*`), any other against
    the file name (`*_cnn.tif`).
    """
    pattern, path = pattern.replace('\\', '/').lower(), path.replace('\\', '/').lower()
    return fnmatch.fnmatchcase(path if '/' in pattern else os.path.basename(path), pattern)


def assign(methods: Sequence[Method], predictions: Sequence[str]) -> list:
    """Give each prediction to the first method whose pattern it fits.

    Returns:
        The methods with their predictions.

    Raises:
        MethodTableError: if a prediction fits no pattern or a method gets no prediction.

    """
    chosen = {method.name: [] for method in methods}
    for prediction in predictions:
        owner = next((m for m in methods if matches(m.pattern, prediction)), None)
        if owner is None:
            raise MethodTableError(
                f'the prediction {os.path.basename(prediction)} fits no method\'s pattern ('
                + ', '.join(m.pattern for m in methods)
                + '); add a method row for it or leave it out of the predictions')
        chosen[owner.name].append(prediction)
    for method in methods:
        if not chosen[method.name]:
            raise MethodTableError(f'no prediction fits the pattern {method.pattern!r} of the '
                                   f'method {method.name!r}; correct the pattern or remove the row')
    return [Method(m.name, m.pattern, m.mapping, tuple(chosen[m.name])) for m in methods]


def stem(path: str) -> str:
    """The image name a file stands for: its file name without extension, lower case."""
    return os.path.splitext(os.path.basename(path))[0].lower()


def match_truth(prediction: str, truths: Sequence[str]):
    """Return the ground truth of `prediction`, or None.

    A ground truth matches when its file stem equals the prediction's stem or begins it up to a
    separator: `kgvd.tif` matches `kgvd.tif`, `kgvd_cnn.tif`, `kgvd-scl.tif`, not `kgvdx.tif`.
    The longest matching stem wins.

    Raises:
        PairingError: if two ground truths share the matching name.

    """
    name = stem(prediction)
    found = [t for t in truths if name == stem(t)
             or (name.startswith(stem(t)) and not name[len(stem(t))].isalnum())]
    if not found:
        return None
    longest = max(len(stem(t)) for t in found)
    best = [t for t in found if len(stem(t)) == longest]
    if len(best) > 1:
        raise PairingError(f'{len(best)} ground truths are named {stem(best[0])!r} '
                           f'({", ".join(best)}); keep one per image name')
    return best[0]


def pair(methods: Sequence[Method], truths: Sequence[str]):
    """Return ([(method, image, prediction, truth)], [(method name, prediction, reason)]).

    Raises:
        PairingError: if one method has two predictions of an image, or nothing can be paired
            (with the naming rule in the message).

    """
    jobs, skipped = [], []
    for method in methods:
        seen = {}
        for prediction in method.predictions:
            truth = match_truth(prediction, truths)
            if truth is None:
                skipped.append((method.name, prediction, 'no ground truth with a matching name'))
                continue
            image = stem(truth)
            if image in seen:
                raise PairingError(
                    f'the method {method.name!r} has two predictions of the image {image!r} '
                    f'({os.path.basename(seen[image])}, {os.path.basename(prediction)}); give '
                    'each method one prediction per image (narrow its file name pattern)')
            seen[image] = prediction
            jobs.append((method, image, prediction, truth))
    if not jobs:
        raise PairingError('no prediction could be paired with a ground truth: name each ground '
                           'truth after its image (kgvd.tif) and each prediction the same or '
                           'with a suffix (kgvd.tif, kgvd_cnn.tif, kgvd-scl.tif)')
    return jobs, skipped
