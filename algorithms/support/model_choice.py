"""The model parameters shared by the algorithms that run a bundled or custom model."""

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
)

from ..core.errors import ModelError
from .paths import bundled_model_ids, bundled_model_path
from .qgis_compat import NUMBER_DOUBLE

MODEL = 'MODEL'
MODEL_FILE = 'MODEL_FILE'
CUSTOM_MODEL = 'Custom model file (MODEL_FILE)'
THRESHOLD = 'THRESHOLD'
EXECUTION_PROVIDER = 'EXECUTION_PROVIDER'
PROVIDER_CHOICES = ('Auto', 'CPU', 'CUDA')


def static_enum(name, description, options):
    """Return an enum parameter whose values are its option strings (readable in qgis_process)."""
    parameter = QgsProcessingParameterEnum(name, description, options=list(options),
                                           defaultValue=options[0] if options else None)
    parameter.setUsesStaticStrings(True)
    return parameter


def add_model_parameters(algorithm):
    """Declare MODEL (a bundled model id, the default first, or custom) and MODEL_FILE."""
    algorithm.addParameter(static_enum(MODEL, algorithm.tr(
        'Model (l1c13: 13 L1C bands at 60 m; rgbn, experimental: 10 m L2A B02-B04, B08)'),
                                       [*bundled_model_ids(), CUSTOM_MODEL]))
    algorithm.addParameter(QgsProcessingParameterFile(
        MODEL_FILE, algorithm.tr('Custom model file (.onnx with S2 Cloud CNN metadata)'),
        extension='onnx', optional=True))


def check_model_choice(algorithm, parameters, context):
    """Return (ok, message): a custom model needs MODEL_FILE, a bundled one its file."""
    try:
        path = model_path(algorithm, parameters, context)
    except ModelError as error:
        return False, str(error)
    if not path:
        return False, algorithm.tr('MODEL is "{}": give the .onnx in MODEL_FILE.').format(
            CUSTOM_MODEL)
    return True, ''


def model_path(algorithm, parameters, context):
    """Return the chosen model's file: MODEL_FILE when given, else the bundled MODEL.

    Raises:
        ModelError: if the bundled model is not installed.

    """
    custom = algorithm.parameterAsFile(parameters, MODEL_FILE, context)
    choice = algorithm.parameterAsEnumString(parameters, MODEL, context)
    if custom or choice == CUSTOM_MODEL:
        return custom
    return bundled_model_path(choice)


def add_threshold_and_provider(algorithm):
    """Declare THRESHOLD (empty: the model's own) and EXECUTION_PROVIDER (Auto, CPU, CUDA)."""
    algorithm.addParameter(QgsProcessingParameterNumber(
        THRESHOLD, algorithm.tr('Cloud probability threshold (empty: the model\'s)'),
        NUMBER_DOUBLE, optional=True, minValue=0.0, maxValue=1.0))
    algorithm.addParameter(static_enum(EXECUTION_PROVIDER, algorithm.tr('Execution provider'),
                                       PROVIDER_CHOICES))


def threshold_and_provider(algorithm, parameters, context):
    """Return (threshold, or None for the model's own; provider 'auto', 'cpu' or 'cuda')."""
    given = parameters.get(THRESHOLD)
    threshold = None if given in (None, '') else algorithm.parameterAsDouble(
        parameters, THRESHOLD, context)
    provider = algorithm.parameterAsEnumString(parameters, EXECUTION_PROVIDER, context)
    return threshold, provider.lower()
