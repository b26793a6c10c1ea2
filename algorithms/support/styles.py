"""Style raster outputs with a .qml from resources/: beside the file and when QGIS loads it."""

import os
import shutil

from qgis.core import QgsProcessingLayerPostProcessorInterface

from .paths import RESOURCES_DIR


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Apply a .qml style to an output layer once Processing has loaded it into the project."""

    # Processing takes ownership of a post-processor and deletes it once used, so each output
    # needs a new one; the latest per style is also held here so that its Python side lives
    # until Processing calls it (QuickOSM's LayerDecorator.create does the same).
    _latest = {}

    def __init__(self, qml_path):
        super().__init__()
        self.qml_path = qml_path

    def postProcessLayer(self, layer, context, feedback):
        """Load the style into the freshly added layer."""
        message, ok = layer.loadNamedStyle(self.qml_path)
        if not ok:
            feedback.pushWarning(f'could not apply the style {self.qml_path}: {message}')
        layer.triggerRepaint()

    @classmethod
    def create(cls, qml_path):
        """Return a new post-processor for `qml_path` (never reuse one: it is deleted after use)."""
        cls._latest[qml_path] = cls(qml_path)
        return cls._latest[qml_path]


def style_raster_output(path, qml_name, context):
    """Copy resources/<qml_name> beside `path` and style the layer if QGIS loads it.

    The copy (same base name, .qml) makes QGIS apply the style whenever the file is opened
    later; the post-processor styles the layer Processing adds at the end of this run.
    """
    qml_path = os.path.join(RESOURCES_DIR, qml_name)
    shutil.copyfile(qml_path, os.path.splitext(path)[0] + '.qml')
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.setPostProcessor(StylePostProcessor.create(qml_path))
