"""Processing algorithm: evaluate many cloud masks of any number of methods side by side."""

import math
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
    QgsProcessingParameterMatrix,
    QgsProcessingParameterMultipleLayers,
)

from .core.errors import MethodTableError
from .core.evaluation.metrics import COUNT_NAMES
from .core.evaluation.pairing import DEFAULT_TABLE, assign, methods_from_table
from .core.evaluation.summary import IMAGE_COLUMNS, METHOD_COLUMNS, summarize, write_outputs
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
Table 4 and Figures 3-4 do, for any number of methods side by side (e.g. the CNN, Sen2Cor SCL and \
Fmask), each with its own classes.

<b>Predicted masks</b>: every method's predictions, all in one list.

<b>Methods</b>: one row per method: its name, the file name pattern that picks its predictions \
from the list (<i>*_cnn.tif</i>; with a slash the pattern is matched against the whole path, \
<i>*/scl/*</i>; * and ? are wildcards, case is ignored), its classes (a preset number or key, \
below), and for custom classes its cloud and clear values ("8-10 11"), for a probability \
raster its threshold (empty: 0.5). Each prediction belongs to the first row whose pattern fits; \
a prediction that fits no row, or a row that no prediction fits, is refused before any work. \
Left empty, every prediction is one method, CNN, with this plugin's mask classes. \
In qgis_process give the table as one value, its cells row after row separated by commas \
(empty cells included): <i>METHODS=CNN,*_cnn.tif,mask,,,,Sen2Cor,*_scl.tif,scl,,,</i>.

<b>Pairing by name</b>: each prediction is paired with the ground truth whose file name (without \
extension) equals its own or begins it before a separator: ground truth <i>kgvd.tif</i> pairs \
with <i>kgvd.tif</i>, <i>kgvd_cnn.tif</i> or <i>kgvd-scl.tif</i> of any folder (the longest name \
wins). Ground truths come from the list, from a folder (every .tif/.tiff/.vrt/.img/.jp2 in it), \
or both. Predictions without a ground truth, and pairs that do not overlap, are skipped and \
listed in the report; two predictions of one image for one method are refused.

<b>Class presets</b> (number, key): 0 mask, 1 alcd, 2 scl, 3 fmask, 4 probability, 5 custom, \
6 mask_shadow, 7 alcd_shadow, 8 mask_cloud_or_shadow, 9 alcd_cloud_or_shadow, as in the \
ground truth's classes field. """ + CLASSES_HELP + """

<b>Outputs</b>: the per-image table (a layer and/or a CSV), one row per method and image \
(accuracy, recall, precision, F-score, IoU, kappa, TP, TN, FP, FN); the per-method table, one \
row per method: images evaluated and skipped, each metric's mean over the images \
(<i>metric</i>_mean, the paper's Table 4) and the metrics of all pixels pooled \
(<i>metric</i>_pooled, with the pooled counts); an HTML report with both tables and two PNG \
plots written beside it (<i>report</i>_per_image.png: bars per image; \
<i>report</i>_boxplots.png: box plots per metric), drawn with matplotlib (Debian package \
python3-matplotlib) without a display."""

RASTER_EXTENSIONS = ('.tif', '.tiff', '.vrt', '.img', '.jp2')
TEXT_COLUMNS = ('method', 'image', 'prediction', 'ground_truth')
INTEGER_COLUMNS = COUNT_NAMES + ('images', 'skipped')


class SummarizeEvaluationsAlgorithm(S2CloudCnnAlgorithm):
    """Evaluate many prediction / ground-truth pairs: two tables, plots, HTML report."""

    NAME = 'summarizeevaluations'
    DISPLAY_NAME = 'Summarise evaluations'
    SHORT_DESCRIPTION = ('Evaluate many cloud masks of any number of methods against their '
                         'ground truths: per-image and per-method tables, plots and a report.')
    GROUP_ID = 'evaluation'
    HELP = HELP

    PREDICTIONS = 'PREDICTIONS'
    METHODS = 'METHODS'
    GROUND_TRUTHS = 'GROUND_TRUTHS'
    GROUND_TRUTH_FOLDER = 'GROUND_TRUTH_FOLDER'
    GROUND_TRUTH = 'GROUND_TRUTH'
    PER_IMAGE = 'PER_IMAGE'
    PER_IMAGE_CSV = 'PER_IMAGE_CSV'
    PER_METHOD = 'PER_METHOD'
    PER_METHOD_CSV = 'PER_METHOD_CSV'
    REPORT = 'REPORT'

    def initAlgorithm(self, config=None):
        """Declare the predictions, the methods table, the ground truths and the outputs."""
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.PREDICTIONS, self.tr('Predicted masks (of every method)'), SOURCE_RASTER))
        self.addParameter(QgsProcessingParameterMatrix(
            self.METHODS, self.tr('Methods (one row each: name, file name pattern, classes)'),
            numberRows=1, hasFixedNumberRows=False,
            headers=[self.tr('Method'), self.tr('Predictions (file name pattern)'),
                     self.tr('Classes (preset number or key)'), self.tr('Cloud values (custom)'),
                     self.tr('Clear values (custom)'), self.tr('Threshold (probability)')],
            defaultValue=list(DEFAULT_TABLE), optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.GROUND_TRUTHS, self.tr('Ground truths'), SOURCE_RASTER,
            optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.GROUND_TRUTH_FOLDER, self.tr('Folder of ground truths'),
            FILE_FOLDER, optional=True))
        add_class_parameters(self, self.GROUND_TRUTH, 'Ground truth', 'mask')
        for name, label, csv_label in (
                (self.PER_IMAGE, self.tr('Per-image metrics'), self.tr('Per-image metrics CSV')),
                (self.PER_METHOD, self.tr('Per-method metrics (means, pooled)'),
                 self.tr('Per-method metrics CSV'))):
            self.addParameter(QgsProcessingParameterFeatureSink(
                name, label, SOURCE_VECTOR, optional=True))
            self.addParameter(QgsProcessingParameterFileDestination(
                name + '_CSV', csv_label, self.tr('CSV files (*.csv)'), optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr('Report with plots'), self.tr('HTML files (*.html)'),
            optional=True))

    def checkParameterValues(self, parameters, context):
        """Refuse a missing ground truth source, an unusable methods table or classes."""
        if not (parameters.get(self.GROUND_TRUTHS) or parameters.get(self.GROUND_TRUTH_FOLDER)):
            return False, self.tr('Give the ground truths (GROUND_TRUTHS), a folder of them '
                                  '(GROUND_TRUTH_FOLDER), or both.')
        try:
            self._method_table(parameters, context)
        except MethodTableError as error:
            return False, self.tr('Methods (METHODS): {}').format(error)
        ok, message = check_class_parameters(self, parameters, context, [self.GROUND_TRUTH])
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Assign, pair, evaluate, and write the two tables and the report."""
        truths = self._truths(parameters, context)
        files = [self.parameterAsFileOutput(parameters, name, context)
                 for name in (self.PER_IMAGE_CSV, self.PER_METHOD_CSV, self.REPORT)]
        with reported_as_processing_errors():
            predictions = [layer.source() for layer in
                           self.parameterAsLayerList(parameters, self.PREDICTIONS, context)]
            methods = assign(self._method_table(parameters, context), predictions)
            summary = summarize(methods, truths,
                                class_mapping(self, parameters, context, self.GROUND_TRUTH),
                                run_context(feedback))
            written = write_outputs(summary, *files)
        for method, path, why in summary.skipped:
            feedback.pushWarning(f'skipped {method} {os.path.basename(path)}: {why}')
        feedback.pushInfo('written: ' + ', '.join(written))
        outputs = {key: path for key, path in zip(
            (self.PER_IMAGE_CSV, self.PER_METHOD_CSV, self.REPORT), files) if path}
        for name, columns, rows in ((self.PER_IMAGE, IMAGE_COLUMNS, summary.image_records()),
                                    (self.PER_METHOD, METHOD_COLUMNS, summary.method_records())):
            sink_id = self._write_table(parameters, name, context, columns, rows)
            if sink_id:
                outputs[name] = sink_id
        return outputs

    def declared_files(self, parameters, context):
        """The base's files, and every ground truth of the folder among the inputs."""
        outputs, inputs = super().declared_files(parameters, context)
        return outputs, inputs + self._truths(parameters, context)

    def _method_table(self, parameters, context):
        """The methods table; left empty, one method: CNN, every prediction, the plugin's mask."""
        cells = self.parameterAsMatrix(parameters, self.METHODS, context)
        return methods_from_table(cells or DEFAULT_TABLE)

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

    def _write_table(self, parameters, name, context, columns, rows):
        """Write `rows` to the table output `name`; an undefined ratio (NaN) becomes NULL."""
        fields = QgsFields()
        for column in columns:
            fields.append(typed_field(column, str if column in TEXT_COLUMNS else
                                      int if column in INTEGER_COLUMNS else float))
        sink, sink_id = self.parameterAsSink(parameters, name, context, fields,
                                             NO_GEOMETRY, QgsCoordinateReferenceSystem())
        if sink is None:
            return None
        for row in rows:
            feature = QgsFeature(fields)
            feature.setAttributes([None if isinstance(row[c], float) and math.isnan(row[c])
                                   else row[c] for c in columns])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return sink_id
