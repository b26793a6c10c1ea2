"""Sentinel-2 MSI band names and central wavelengths."""

import re

# Order of the paper's 13-band stack (ESA's band order, B8A after B08).
L1C_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07',
             'B08', 'B8A', 'B09', 'B10', 'B11', 'B12')

# Sentinel-2A central wavelengths in nm (ESA spectral response, as in the paper).
WAVELENGTH_NM = {
    'B01': 443.9, 'B02': 496.6, 'B03': 560.0, 'B04': 664.5, 'B05': 703.9,
    'B06': 740.2, 'B07': 782.5, 'B08': 835.1, 'B8A': 864.8, 'B09': 945.0,
    'B10': 1373.5, 'B11': 1613.7, 'B12': 2202.4,
}

_BAND_TOKEN = re.compile(r'^\s*B\s*0?(8A|1[0-2]|[1-9])\b', re.IGNORECASE)


def canonical_band_name(text: str) -> 'str | None':
    """Return the canonical name ('B01'...'B12', 'B8A') a text starts with, or None.

    Accepts 'B1', 'b01', 'B8A', 'B08 (835.1 nm)', 'B10 1373.5 nm' and similar band
    descriptions, so rasters written by other tools still match the model's bands.
    """
    match = _BAND_TOKEN.match(text or '')
    if not match:
        return None
    number = match.group(1).upper()
    return 'B8A' if number == '8A' else f'B{int(number):02d}'


def band_description(name: str) -> str:
    """Return the description written on a stacked band, e.g. 'B02 (496.6 nm)'."""
    return f'{name} ({WAVELENGTH_NM[name]:g} nm)'
