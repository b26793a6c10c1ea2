"""Where the plugin keeps its own files (resources, bundled models); QGIS-free."""

import os

from ..core.errors import ModelError

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESOURCES_DIR = os.path.join(PLUGIN_DIR, 'resources')
ICON_PATH = os.path.join(RESOURCES_DIR, 'icon.svg')
HELP_DIR = os.path.join(RESOURCES_DIR, 'help')
MODELS_DIR = os.path.join(PLUGIN_DIR, 'models')
DEFAULT_MODEL_ID = 's2cloudcnn-l1c13'


def bundled_model_ids():
    """Return the ids of the models shipped in models/, the default first."""
    names = sorted(name[:-5] for name in os.listdir(MODELS_DIR) if name.endswith('.onnx')) \
        if os.path.isdir(MODELS_DIR) else []
    return sorted(names, key=lambda name: name != DEFAULT_MODEL_ID)


def bundled_model_path(model_id):
    """Return the file of the bundled model `model_id`.

    Raises:
        ModelError: if no such model is shipped.

    """
    path = os.path.join(MODELS_DIR, f'{model_id}.onnx')
    if not os.path.isfile(path):
        raise ModelError(f'no bundled model {model_id!r} in {MODELS_DIR}; the shipped models '
                         f'are {bundled_model_ids()}')
    return path
