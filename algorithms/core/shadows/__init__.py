"""Cloud shadows cast by detected clouds, found from the sun and view geometry (Fmask-style).

The method follows Fmask's object matching (Zhu & Woodcock 2012; Zhu, Wang & Woodcock 2015,
Fmask 3.2 with Sentinel-2; Qiu, Zhu & He 2019, Fmask 4.0) without a thermal band or a DEM:
potential.py finds pixels darker than their surroundings in NIR and SWIR (flood fill),
projection.py moves each cloud object along the sun and view directions through a range of
heights and keeps the height whose projection best matches them, and mask.py writes the
cloud and shadow mask (with an optional buffer) from a cloud mask, its stack and the angles.
"""

from ..errors import DependencyMissingError


def scipy_ndimage():
    """scipy.ndimage, imported when shadows are asked for (the rest of the plugin needs no scipy).

    Raises:
        DependencyMissingError: naming how to install scipy.

    """
    try:
        from scipy import ndimage
    except ImportError as error:
        raise DependencyMissingError(
            'the cloud and shadow mask needs the Python package scipy, which this QGIS lacks: '
            "install it (Debian/Ubuntu: 'sudo apt install python3-scipy'; the OSGeo4W and "
            'macOS installers of QGIS include it) or leave the cloud and shadow mask '
            'output empty') from error
    return ndimage
