"""Processing algorithm: detect clouds in many L1C products, one table row per product."""

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
)

from .core.batch.job import (
    COLUMNS,
    DONE,
    FAILED,
    FLOAT_COLUMNS,
    SKIPPED,
    JobSettings,
    find_products,
    run_job,
)
from .core.dependencies import missing_message, onnxruntime_status
from .core.inspection.first_layer import probe_conv1
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.model_choice import (
    EXECUTION_PROVIDER,
    THRESHOLD,
    add_model_parameters,
    add_threshold_and_provider,
    check_model_choice,
    model_path,
    threshold_and_provider,
)
from .support.qgis_compat import FILE_FOLDER, NO_GEOMETRY, SOURCE_FILE, SOURCE_VECTOR, typed_field
from .support.styles import style_raster_output

HELP = """Runs <i>Detect clouds (CNN)</i> on every Sentinel-2 L1C product of a folder (and its \
sub-folders if asked) or of a list: each product is stacked to 60 m and classified with the \
chosen model and settings.

<b>Outputs</b>, in the output folder, named after the product (its SAFE name, the ESA product \
id): <i>id</i>_cloudmask.tif (0 clear, 1 cloud, 255 no data) and, if asked, \
<i>id</i>_probability.tif. <b>Table</b> (CSV or GeoPackage, loaded as a layer): one row per \
product with its id, sensing time, tile, valid fraction, cloud fraction, seconds taken, status \
(done, skipped, failed) and, for a failed product, why.

A product that cannot be used (damaged, Level-2A, a band missing) is recorded as failed and \
the job goes on. <b>Resumable</b>: a product whose outputs exist and were made with the same \
model (same file) and threshold, as recorded in their metadata, is skipped; run the same job \
again after a cancel or a crash and only what is missing is done. Cancel stops between \
products (the one in progress leaves nothing)."""


class DetectCloudsManyAlgorithm(S2CloudCnnAlgorithm):
    """Detect clouds in many products."""

    NAME = 'detectcloudsmany'
    DISPLAY_NAME = 'Detect clouds in many products'
    SHORT_DESCRIPTION = ('Cloud masks of every L1C product in a folder or list, with '
                         'a table of cloud fractions.')
    GROUP_ID = 'detection'
    HELP = HELP

    INPUT_FOLDER = 'INPUT_FOLDER'
    RECURSIVE = 'RECURSIVE'
    PRODUCTS = 'PRODUCTS'
    THRESHOLD = THRESHOLD
    EXECUTION_PROVIDER = EXECUTION_PROVIDER
    PROBABILITY = 'PROBABILITY'
    OUTPUT_FOLDER = 'OUTPUT_FOLDER'
    OUTPUT = 'OUTPUT'
    DONE = 'DONE'
    SKIPPED = 'SKIPPED'
    FAILED = 'FAILED'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT_FOLDER, self.tr('Folder of L1C products (.zip, .SAFE)'), FILE_FOLDER,
            optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            self.RECURSIVE, self.tr('Search its sub-folders too'), defaultValue=False))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.PRODUCTS, self.tr('Or / and L1C products'), SOURCE_FILE, optional=True))
        add_model_parameters(self)
        add_threshold_and_provider(self)
        self.addParameter(QgsProcessingParameterBoolean(
            self.PROBABILITY, self.tr('Also write cloud probabilities'), defaultValue=False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUTPUT_FOLDER, self.tr('Output folder')))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr('Products table'), SOURCE_VECTOR))
        for name, description in ((self.DONE, 'Products detected'),
                                  (self.SKIPPED, 'Products already done (skipped)'),
                                  (self.FAILED, 'Products that failed')):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(description)))

    def canExecute(self):
        """Report a missing onnxruntime with the command that installs it."""
        if onnxruntime_status().installed:
            return True, ''
        return False, missing_message()

    def checkParameterValues(self, parameters, context):
        """Require products (a folder, a list or both) and a model file for a custom model."""
        if not (parameters.get(self.INPUT_FOLDER) or parameters.get(self.PRODUCTS)):
            return False, self.tr('Give a folder of L1C products (INPUT_FOLDER), a list of '
                                  'products (PRODUCTS), or both.')
        ok, message = check_model_choice(self, parameters, context)
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Find the products, run the core job, write the table."""
        folder = self.parameterAsFile(parameters, self.INPUT_FOLDER, context)
        # QGIS 3.22 gives [''] for an empty PRODUCTS list.
        sources = [p for p in [folder, *self.parameterAsFileList(
            parameters, self.PRODUCTS, context)] if p]
        output_folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        with reported_as_processing_errors():
            products = find_products(sources, self.parameterAsBool(
                parameters, self.RECURSIVE, context))
            feedback.pushInfo(f'{len(products)} products')
            rows = run_job(products, output_folder, self._settings(parameters, context),
                           run_context(feedback))
        for row in rows:
            if row.status == DONE:
                style_raster_output(row.mask, 'mask.qml', context)
        counts = {status: sum(row.status == status for row in rows)
                  for status in (DONE, SKIPPED, FAILED)}
        return {self.OUTPUT: self._write_table(rows, parameters, context),
                self.OUTPUT_FOLDER: output_folder, self.DONE: counts[DONE],
                self.SKIPPED: counts[SKIPPED], self.FAILED: counts[FAILED]}

    def _settings(self, parameters, context):
        threshold, provider = threshold_and_provider(self, parameters, context)
        return JobSettings(model_path(self, parameters, context), threshold,
                           self.parameterAsBool(parameters, self.PROBABILITY, context), provider,
                           first_layer_probe=probe_conv1)

    def _write_table(self, rows, parameters, context):
        fields = QgsFields()
        for column in COLUMNS:
            fields.append(typed_field(column, float if column in FLOAT_COLUMNS else str))
        sink, sink_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields,
                                             NO_GEOMETRY, QgsCoordinateReferenceSystem())
        for row in rows:
            feature = QgsFeature(fields)
            feature.setAttributes([getattr(row, column) for column in COLUMNS])
            sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert)
        return sink_id
