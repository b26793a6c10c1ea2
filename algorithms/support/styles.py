"""Style raster outputs with a .qml from resources/: beside the file and when QGIS loads it."""

import os
import shutil

from qgis.core import QgsProcessingLayerPostProcessorInterface

from ..core.raster_io import atomic_output
from .paths import RESOURCES_DIR


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Apply a .qml style to an output layer once Processing has loaded it into the project."""

    # Processing takes ownership of a post-processor and deletes it once used, so each output
    # needs a new one; the latest per style is also held here so that its Python side lives
    # until Processing calls it (QuickOSM's LayerDecorator.create does the same).
    _latest = {}

    def __init__(self, qml_path, below=None):
        super().__init__()
        self.qml_path = qml_path
        self.below = below

    def postProcessLayer(self, layer, context, feedback):
        """Load the style into the freshly added layer; put it under `below` if that is loaded."""
        message, ok = layer.loadNamedStyle(self.qml_path)
        if not ok:
            feedback.pushWarning(f'could not apply the style {self.qml_path}: {message}')
        if self.below and context.project() is not None:
            _move_under(context.project(), layer, self.below)
        layer.triggerRepaint()

    @classmethod
    def create(cls, qml_path, below=None):
        """Return a new post-processor for `qml_path` (never reuse one: it is deleted after use)."""
        cls._latest[qml_path] = cls(qml_path, below)
        return cls._latest[qml_path]


def _move_under(project, layer, source):
    """Move `layer` just under the layer of file `source` when it was loaded above it.

    QGIS loads a run's outputs in the order of their file names and puts each new one on top,
    so a probability layer could hide the cloud mask it belongs to.
    """
    root = project.layerTreeRoot()
    node = root.findLayer(layer.id())
    others = [root.findLayer(other.id()) for other in project.mapLayers().values()
              if other.source() == source]
    target = next((other for other in others if other is not None), None)
    if node is None or target is None or node.parent() is not target.parent():
        return
    parent = node.parent()
    children = parent.children()
    if children.index(node) < children.index(target):
        parent.insertChildNode(children.index(target) + 1, node.clone())
        parent.removeChildNode(node)


def style_raster_output(path, qml_name, context, below=None):
    """Copy resources/<qml_name> beside `path` and style the layer if QGIS loads it.

    The copy (same base name, .qml) makes QGIS apply the style whenever the file is opened
    later; the post-processor styles the layer Processing adds at the end of this run and
    draws it under the output file `below`, when given and loaded too.
    """
    qml_path = os.path.join(RESOURCES_DIR, qml_name)
    with atomic_output(os.path.splitext(path)[0] + '.qml') as temporary:
        shutil.copyfile(qml_path, temporary)
    if context.willLoadLayerOnCompletion(path):
        details = context.layerToLoadOnCompletionDetails(path)
        details.setPostProcessor(StylePostProcessor.create(qml_path, below))
