"""Processing algorithm: evaluate a cloud mask against ground truth."""

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .core.evaluation.evaluate import evaluate
from .core.evaluation.metrics import COUNT_NAMES, METRIC_NAMES
from .core.evaluation.report import write_evaluation_report
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.class_parameters import (
    CLASSES_HELP,
    add_class_parameters,
    check_class_parameters,
    class_mapping,
)
from .support.styles import style_raster_output

HELP = """Compares a cloud mask (or the masks of Sen2Cor, Fmask, a probability raster) with a \
ground-truth raster and reports accuracy, recall, precision and F-score with cloud as the \
positive class (Kristollari & Karathanassi 2020), plus IoU, Cohen's kappa and the four counts \
TP, TN, FP, FN as numbers a model can use.

""" + CLASSES_HELP + """

<b>Grids</b>: pixels are compared on the prediction's grid. A ground truth on another grid \
(CRS, extent or pixel size) is resampled onto it with nearest neighbour, and the log says so; \
rasters that do not overlap, or one without a CRS, are refused. Only pixels valid in both \
count.

<b>Ratios when a class is absent</b>: recall = 1 without reference cloud, precision = 1 when \
nothing was called cloud, F = 0 when both are 0, IoU = 1 when neither has cloud, kappa = 1 when \
both are one and the same class.

<b>Error map</b> (Byte): 0 TN, 1 TP, 2 FN (missed cloud), 3 FP (false cloud), 255 not \
evaluated; styled with resources/error_map.qml. <b>Report</b>: HTML with the numbers, the \
confusion matrix and, per ground-truth class, how much was called cloud (how much snow or water \
was taken for cloud)."""


class EvaluateMaskAlgorithm(S2CloudCnnAlgorithm):
    """Evaluate a cloud mask against ground truth: metrics, error map, HTML report."""

    NAME = 'evaluatemask'
    DISPLAY_NAME = 'Evaluate cloud mask'
    SHORT_DESCRIPTION = ('Compare a cloud mask with ground truth: accuracy, recall, '
                         'precision, F-score, error map.')
    GROUP_ID = 'evaluation'
    HELP = HELP

    PREDICTION = 'PREDICTION'
    GROUND_TRUTH = 'GROUND_TRUTH'
    ERROR_MAP = 'ERROR_MAP'
    REPORT = 'REPORT'
    ACCURACY = 'ACCURACY'
    RECALL = 'RECALL'
    PRECISION = 'PRECISION'
    FSCORE = 'FSCORE'
    IOU = 'IOU'
    KAPPA = 'KAPPA'
    TP = 'TP'
    TN = 'TN'
    FP = 'FP'
    FN = 'FN'
    OUTPUT_LABELS = {ACCURACY: 'Accuracy', RECALL: 'Recall (1 - omission)',
                     PRECISION: 'Precision (1 - commission)', FSCORE: 'F-score',
                     IOU: 'IoU (cloud)', KAPPA: "Cohen's kappa", TP: 'True positives (pixels)',
                     TN: 'True negatives (pixels)', FP: 'False positives (pixels)',
                     FN: 'False negatives (pixels)'}

    def initAlgorithm(self, config=None):
        """Declare the parameters and the numeric outputs."""
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.PREDICTION, self.tr('Predicted cloud mask')))
        add_class_parameters(self, self.PREDICTION, 'Prediction', 'mask')
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.GROUND_TRUTH, self.tr('Ground truth')))
        add_class_parameters(self, self.GROUND_TRUTH, 'Ground truth', 'mask')
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.ERROR_MAP, self.tr('Error map (TN, TP, FN, FP)'), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr('Report'), self.tr('HTML files (*.html)'), optional=True))
        for name, label in self.OUTPUT_LABELS.items():
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(label)))

    def checkParameterValues(self, parameters, context):
        """Refuse empty or contradictory class mappings before running."""
        ok, message = check_class_parameters(self, parameters, context,
                                             (self.PREDICTION, self.GROUND_TRUTH))
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Evaluate block by block, write the error map and the report, return the numbers."""
        prediction = self._source(parameters, self.PREDICTION, context)
        truth = self._source(parameters, self.GROUND_TRUTH, context)
        error_map = self.optional_output_layer(parameters, self.ERROR_MAP, context)
        report = self.parameterAsFileOutput(parameters, self.REPORT, context)
        with reported_as_processing_errors():
            result = evaluate(prediction, truth,
                              class_mapping(self, parameters, context, self.PREDICTION),
                              class_mapping(self, parameters, context, self.GROUND_TRUTH),
                              error_map=error_map, run_context=run_context(feedback))
            if report:
                write_evaluation_report(report, result)
        for note in result.notes:
            feedback.pushWarning(note)
        values = result.confusion.metrics()
        feedback.pushInfo(', '.join(f'{k} {values[k]:.4f}' for k in METRIC_NAMES)
                          + ', ' + ', '.join(f'{k.upper()} {values[k]}' for k in COUNT_NAMES))
        outputs = {name: values[name.lower()] for name in self.OUTPUT_LABELS}
        if error_map:
            style_raster_output(error_map, 'error_map.qml', context)
            outputs[self.ERROR_MAP] = error_map
        if report:
            outputs[self.REPORT] = report
        return outputs

    def _source(self, parameters, name, context):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            raise QgsProcessingException(self.tr('{}: the raster could not be loaded; give '
                                                 'a raster file or layer').format(name))
        return layer.source()
