"""ALCD's classes: codes, names, palette, and how a seed's class value is read."""

from ..errors import SeedError

NO_DATA, NOT_USED = 0, 1
CLASS_NAMES = {2: 'opaque cloud', 3: 'thin cloud', 4: 'cloud shadow', 5: 'land',
               6: 'water', 7: 'snow'}
CLOUD_CLASSES = (2, 3)
CLEAR_CLASSES = (4, 5, 6, 7)
ALL_NAMES = {NO_DATA: 'no data', NOT_USED: 'not used', **CLASS_NAMES}
# ALCD's colours (the QGIS style resources/alcd_reference.qml and the report's legend).
PALETTE = {0: '#000000', 1: '#808080', 2: '#ffffff', 3: '#00ffff', 4: '#404040',
           5: '#00a000', 6: '#0000ff', 7: '#ff00ff'}
# ALCD's own names for the cloud classes, accepted beside ours.
ALIASES = {'low cloud': 2, 'low clouds': 2, 'high cloud': 3, 'high clouds': 3,
           'cloud shadows': 4, 'shadow': 4}


def class_code(value) -> int:
    """The ALCD code of a seed's class value: a code 2..7 or a class name ('thin cloud').

    Raises:
        SeedError: the value names no ALCD seed class.

    """
    text = str(value).strip().lower().replace('_', ' ')
    names = {name: code for code, name in CLASS_NAMES.items()}
    names.update(ALIASES)
    if text in names:
        return names[text]
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and int(number) in CLASS_NAMES:
        return int(number)
    raise SeedError(f'unknown seed class {value!r}; use an ALCD code or name: '
                    + ', '.join(f'{c} {n}' for c, n in CLASS_NAMES.items()))
