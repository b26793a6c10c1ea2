"""The model parameter shared by algorithms that run a bundled or custom S2 Cloud CNN model."""

import contextlib

from qgis.core import QgsProcessingParameterFile

from .core.errors import ModelError
from .core.inference import DEFAULT_MODEL_ID, bundled_model_path

MODEL = 'MODEL'


def default_model_path():
    """Return the bundled default model's file, or None when it is not installed."""
    with contextlib.suppress(ModelError):
        return bundled_model_path(DEFAULT_MODEL_ID)
    return None


def model_parameter(description='Model (.onnx with S2 Cloud CNN metadata)'):
    """Return the MODEL file parameter, defaulting to the bundled default model."""
    return QgsProcessingParameterFile(MODEL, description, extension='onnx',
                                      defaultValue=default_model_path())
