"""Processing algorithm: evaluate many cloud masks, up to three methods side by side."""

import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)

from .core.evaluation.summary import COLUMNS, Method, summarize, write_outputs
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.class_parameters import (
    CLASSES_HELP,
    add_class_parameters,
    check_class_parameters,
    class_mapping,
)
from .support.qgis_compat import (
    FILE_FOLDER,
    NO_GEOMETRY,
    SOURCE_RASTER,
    SOURCE_VECTOR,
    typed_field,
)

HELP = """Evaluates many predicted cloud masks against their ground truths, as the paper's \
Table 4 and Figures 3-4 do, for up to three methods side by side (e.g. the CNN, Sen2Cor SCL and \
Fmask), each with its own classes.

<b>Pairing by name</b>: each prediction is paired with the ground truth whose file name (without \
extension) equals its own or begins it before a separator: ground truth <i>kgvd.tif</i> pairs \
with <i>kgvd.tif</i>, <i>kgvd_cnn.tif</i> or <i>kgvd-scl.tif</i> of any folder. Ground truths \
come from the list, from a folder (every .tif/.tiff/.vrt/.img/.jp2 in it), or both. Predictions \
without a ground truth, and pairs that do not overlap, are skipped and listed in the report.

""" + CLASSES_HELP + """

<b>Outputs</b>: a table and a CSV with one row per image and method (accuracy, recall, \
precision, F-score, IoU, kappa, TP, TN, FP, FN), then per method the mean over images and the \
metrics of all pixels pooled; an HTML report with the same numbers and two PNG plots written \
beside it (<i>report</i>_per_image.png: bars per image; <i>report</i>_boxplots.png: box plots \
per metric), drawn with matplotlib (Debian package python3-matplotlib) without a display."""

RASTER_EXTENSIONS = ('.tif', '.tiff', '.vrt', '.img', '.jp2')
SLOTS = (('', 'CNN', 'mask'), ('_2', 'Sen2Cor', 'scl'), ('_3', 'Fmask', 'fmask'))


class SummarizeEvaluationsAlgorithm(S2CloudCnnAlgorithm):
    """Evaluate many prediction / ground-truth pairs: table, CSV, plots, HTML report."""

    NAME = 'summarizeevaluations'
    DISPLAY_NAME = 'Summarise evaluations'
    SHORT_DESCRIPTION = ('Evaluate many cloud masks against their ground truths: '
                         'tables, plots and a report.')
    GROUP_ID = 'evaluation'
    HELP = HELP

    PREDICTIONS = 'PREDICTIONS'
    METHOD_NAME = 'METHOD_NAME'
    PREDICTION = 'PREDICTION'
    GROUND_TRUTHS = 'GROUND_TRUTHS'
    GROUND_TRUTH_FOLDER = 'GROUND_TRUTH_FOLDER'
    GROUND_TRUTH = 'GROUND_TRUTH'
    OUTPUT = 'OUTPUT'
    OUTPUT_CSV = 'OUTPUT_CSV'
    REPORT = 'REPORT'

    def initAlgorithm(self, config=None):
        """Declare up to three methods, the ground truths and the outputs."""
        for number, (suffix, name, preset) in enumerate(SLOTS, start=1):
            self.addParameter(QgsProcessingParameterMultipleLayers(
                self.PREDICTIONS + suffix, self.tr('Method {}: predicted masks').format(number),
                SOURCE_RASTER, optional=number > 1))
            self.addParameter(QgsProcessingParameterString(
                self.METHOD_NAME + suffix, self.tr('Method {}: name').format(number),
                defaultValue=name))
            add_class_parameters(self, self.PREDICTION + suffix, f'Method {number}', preset)
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.GROUND_TRUTHS, self.tr('Ground truths'), SOURCE_RASTER,
            optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.GROUND_TRUTH_FOLDER, self.tr('Folder of ground truths'),
            FILE_FOLDER, optional=True))
        add_class_parameters(self, self.GROUND_TRUTH, 'Ground truth', 'mask')
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr('Metrics table'), SOURCE_VECTOR, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr('Metrics CSV'), self.tr('CSV files (*.csv)'),
            optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr('Report with plots'), self.tr('HTML files (*.html)'),
            optional=True))

    def checkParameterValues(self, parameters, context):
        """Refuse a missing ground truth source and empty or contradictory class mappings."""
        if not (parameters.get(self.GROUND_TRUTHS) or parameters.get(self.GROUND_TRUTH_FOLDER)):
            return False, self.tr('Give the ground truths (GROUND_TRUTHS), a folder of them '
                                  '(GROUND_TRUTH_FOLDER), or both.')
        prefixes = [self.PREDICTION + s for s, *_ in SLOTS if parameters.get(self.PREDICTIONS + s)]
        ok, message = check_class_parameters(self, parameters, context,
                                             prefixes + [self.GROUND_TRUTH])
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Pair, evaluate, and write the table, the CSV and the report."""
        truths = self._truths(parameters, context)
        csv_path = self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context)
        report_path = self.parameterAsFileOutput(parameters, self.REPORT, context)
        with reported_as_processing_errors():
            methods = self._methods(parameters, context)
            summary = summarize(methods, truths,
                                class_mapping(self, parameters, context, self.GROUND_TRUTH),
                                run_context(feedback))
            written = write_outputs(summary, csv_path, report_path)
        for method, path, why in summary.skipped:
            feedback.pushWarning(f'skipped {method} {os.path.basename(path)}: {why}')
        feedback.pushInfo('written: ' + ', '.join(written))
        outputs = {key: path for key, path in ((self.OUTPUT_CSV, csv_path),
                                               (self.REPORT, report_path)) if path}
        sink_id = self._write_table(summary, parameters, context)
        if sink_id:
            outputs[self.OUTPUT] = sink_id
        return outputs

    def _methods(self, parameters, context):
        methods = []
        for suffix, default, _ in SLOTS:
            layers = self.parameterAsLayerList(parameters, self.PREDICTIONS + suffix, context)
            if layers:
                name = self.parameterAsString(parameters, self.METHOD_NAME + suffix, context)
                mapping = class_mapping(self, parameters, context, self.PREDICTION + suffix)
                methods.append(Method(name or default, tuple(layer.source() for layer in layers),
                                      mapping))
        if not methods:
            raise QgsProcessingException(self.tr('PREDICTIONS: give at least one predicted mask'))
        if len({m.name for m in methods}) < len(methods):
            raise QgsProcessingException(self.tr('Give each method its own name (METHOD_NAME, '
                                                 'METHOD_NAME_2, METHOD_NAME_3)'))
        return methods

    def _truths(self, parameters, context):
        truths = [layer.source() for layer in
                  self.parameterAsLayerList(parameters, self.GROUND_TRUTHS, context)]
        folder = self.parameterAsFile(parameters, self.GROUND_TRUTH_FOLDER, context)
        if folder:
            if not os.path.isdir(folder):
                raise QgsProcessingException(self.tr('GROUND_TRUTH_FOLDER: {} is not a folder; '
                                                     'choose the folder of ground truths').format(
                                                         folder))
            truths += sorted(os.path.join(folder, name) for name in os.listdir(folder)
                             if name.lower().endswith(RASTER_EXTENSIONS))
        return truths

    def _write_table(self, summary, parameters, context):
        fields = QgsFields()
        for column in COLUMNS:
            fields.append(typed_field(column, str if column in COLUMNS[:4] else
                                      int if column in ('tp', 'tn', 'fp', 'fn') else float))
        sink, sink_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields,
                                             NO_GEOMETRY, QgsCoordinateReferenceSystem())
        if sink is None:
            return None
        for record in summary.records():
            feature = QgsFeature(fields)
            feature.setAttributes([record.get(column) for column in COLUMNS])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return sink_id
