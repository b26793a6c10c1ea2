"""Processing parameters that say which raster values are cloud, clear or ignored."""

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..core.errors import MappingError
from ..core.evaluation.metrics import PRESET_KEYS, mapping_for
from .qgis_compat import NUMBER_DOUBLE, advanced

PRESET_LABELS = (
    'Cloud mask of this plugin: 0 clear, 1 cloud, 255 no data',
    'ALCD reference: cloud 2, 3; clear 4-7; ignore 0, 1',
    'Sen2Cor SCL: cloud 8, 9, 10; clear 2-7, 11 (shadow, snow); ignore 0, 1',
    'Fmask: cloud 4; no data 255; every other value clear',
    'Cloud probability: cloud where value >= threshold',
    'Custom value lists',
    'Cloud and shadow mask, shadow scored: shadow 2; not shadow 0, 1; ignore 255',
    'ALCD reference, shadow scored: shadow 4; not shadow 2, 3, 5-7; ignore 0, 1',
    'Cloud and shadow mask, cloud or shadow scored: 1, 2 vs clear 0; ignore 255',
    'ALCD reference, cloud or shadow scored: 2, 3, 4 vs clear 5-7; ignore 0, 1',
)
SUFFIXES = ('CLASSES', 'CLOUD_VALUES', 'CLEAR_VALUES', 'THRESHOLD')

CLASSES_HELP = """<b>Classes</b> say what each raster's values mean. Presets: this plugin's \
mask (0 clear, 1 cloud, 255 no data); ALCD reference maps (2 low, 3 high cloud = cloud; \
4 shadow, 5 land, 6 water, 7 snow = clear; 0, 1 ignored); Sen2Cor SCL (8, 9 cloud medium/high \
probability and 10 thin cirrus = cloud; 3 cloud shadow and 11 snow are <i>clear</i> since they \
are not cloud, as are 2, 4-7; 0 no data and 1 saturated are ignored); Fmask (4 = cloud, 255 no \
data, all else clear); a probability raster (cloud where value >= threshold); or custom lists \
of values ("2, 3" or "8-10"; values in neither list are not evaluated). The band's no-data \
value and NaN are never evaluated. <b>Shadow presets</b> score this plugin's cloud and shadow \
mask (0 clear, 1 cloud, 2 shadow) against ALCD references: with "shadow scored" on both sides \
the positive class (called cloud in the outputs) is shadow (ALCD class 4); with "cloud or \
shadow scored" it is cloud or shadow against clear."""


def add_class_parameters(algorithm, prefix, label, default_preset):
    """Declare <prefix>_CLASSES (preset), _CLOUD_VALUES, _CLEAR_VALUES and _THRESHOLD.

    Args:
        algorithm: the algorithm being initialised.
        prefix: e.g. 'PREDICTION' or 'GROUND_TRUTH'.
        label: what the raster is called in the dialog.
        default_preset: a key of metrics.PRESET_KEYS.

    """
    tr = algorithm.tr
    name = tr(label)
    algorithm.addParameter(QgsProcessingParameterEnum(
        f'{prefix}_CLASSES', tr('{}: classes').format(name), options=[tr(o) for o in PRESET_LABELS],
        defaultValue=PRESET_KEYS.index(default_preset)))
    algorithm.addParameter(advanced(QgsProcessingParameterString(
        f'{prefix}_CLOUD_VALUES', tr('{}: cloud values (custom classes, e.g. "2, 3")').format(name),
        optional=True)))
    algorithm.addParameter(advanced(QgsProcessingParameterString(
        f'{prefix}_CLEAR_VALUES', tr('{}: clear values (custom classes, e.g. "4-7")').format(name),
        optional=True)))
    algorithm.addParameter(advanced(QgsProcessingParameterNumber(
        f'{prefix}_THRESHOLD', tr('{}: cloud probability threshold').format(name),
        NUMBER_DOUBLE, defaultValue=0.5)))


def class_mapping(algorithm, parameters, context, prefix):
    """Return the metrics.ClassMapping chosen with the <prefix>_* parameters.

    Raises:
        MappingError: if the custom lists are empty, unreadable or contradictory.

    """
    index = algorithm.parameterAsEnum(parameters, f'{prefix}_CLASSES', context)
    return mapping_for(PRESET_KEYS[index],
                       algorithm.parameterAsString(parameters, f'{prefix}_CLOUD_VALUES', context),
                       algorithm.parameterAsString(parameters, f'{prefix}_CLEAR_VALUES', context),
                       algorithm.parameterAsDouble(parameters, f'{prefix}_THRESHOLD', context))


def check_class_parameters(algorithm, parameters, context, prefixes):
    """Return (ok, message) for checkParameterValues: every mapping must be usable."""
    for prefix in prefixes:
        try:
            class_mapping(algorithm, parameters, context, prefix)
        except MappingError as error:
            return False, algorithm.tr('{}_CLASSES: {}').format(prefix, error)
    return True, ''
