"""The graphical model shipped with the plugin, offered in the toolbox by our provider."""

import os

from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingOutputNumber,
)

from .core.evaluation.evaluate import confusion_of_error_map
from .evaluate_mask import EvaluateMaskAlgorithm
from .support.base import help_url
from .support.paths import RESOURCES_DIR

MODEL_FILE = os.path.join(RESOURCES_DIR, 'models', 'l1c_cloud_mask.model3')
ERROR_MAP_RESULT = 'evaluate:error_map'
PROVIDER_ID = 's2cloudcnn'


class L1cCloudMaskModel(QgsProcessingModelAlgorithm):
    """L1C product -> stack -> detect clouds -> (optional) evaluate, from the .model3 file.

    Subclassed to give the model a stable lowercase id and, since QGIS 3.22 models can only
    output files, to add the evaluation's numbers (read back from the model's error map) as
    number outputs; the Model Designer still opens and edits the same file.
    """

    def __init__(self):
        super().__init__()
        self._load()
        if any(child.algorithm() is None for child in self.childAlgorithms().values()):
            # Built while our provider loads: its algorithms resolve once it is registered.
            QgsApplication.processingRegistry().providerAdded.connect(self._reload)

    def _load(self):
        self.fromFile(MODEL_FILE)
        for name, label in EvaluateMaskAlgorithm.OUTPUT_LABELS.items():
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def _reload(self, provider_id):
        if provider_id == PROVIDER_ID:
            QgsApplication.processingRegistry().providerAdded.disconnect(self._reload)
            self._load()

    def name(self):
        """Stable id: s2cloudcnn:l1ccloudmask."""
        return 'l1ccloudmask'

    def helpUrl(self):
        """The help page shipped with the plugin."""
        return help_url(self.name())

    def createInstance(self):
        """A fresh copy read from the file, as Processing runs each execution on its own."""
        return L1cCloudMaskModel()

    def processAlgorithm(self, parameters, context, feedback):
        """Run the model, then add the metrics when the evaluation branch ran."""
        parameters = dict(parameters)
        if not parameters.get(ERROR_MAP_RESULT):  # the metrics are read from it
            parameters[ERROR_MAP_RESULT] = QgsProcessing.TEMPORARY_OUTPUT
        results = super().processAlgorithm(parameters, context, feedback)
        error_map = results.get(ERROR_MAP_RESULT)
        if error_map and os.path.exists(error_map):
            metrics = confusion_of_error_map(error_map).metrics()
            results.update({name: metrics[name.lower()]
                            for name in EvaluateMaskAlgorithm.OUTPUT_LABELS})
        return results
