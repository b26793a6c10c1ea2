"""Processing algorithm: write a conv layer's feature maps over a scene, with a contact sheet."""

from qgis.core import (
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .core.evaluation.metrics import parse_values
from .core.inspection.features import MapOptions, export_feature_maps
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.model_choice import (
    MODEL,
    MODEL_FILE,
    add_model_parameters,
    check_model_choice,
    model_path,
)
from .support.qgis_compat import NUMBER_INTEGER

HELP = """Writes the feature maps of one convolutional layer of the CNN over the input scene: \
one Float32 band per filter, on the input's grid, NaN where the input has no data. Every value \
comes from the ONNX model's own intermediate outputs (conv1, conv2, conv3), not from a copy of \
the network.

<b>What a band holds</b>: for the pixel (r, c), filter f of layer i after its activation \
(before pooling), taken at the cell of the pixel's own 16 x 16 patch that holds the patch \
centre: cell 8 of the 16 x 16 layer-1 map, 4 of the 8 x 8 layer-2 map, 2 of the 4 x 4 layer-3 \
map. For layer 1 this is exactly the layer's 3x3 convolution over the zero-padded scene (what \
"Apply kernels" reproduces without the CNN). For layers 2 and 3 the value depends on the whole \
patch around the pixel, so those maps are not convolutions of the scene; they cost one model \
run per pixel (about as long as cloud detection).

<b>Input</b>: a stack whose band descriptions name the model's bands (from "Stack Sentinel-2 L1C \
bands at 60 m"), in reflectance (unit 1). <b>Filters</b>: e.g. "1, 3, 5-8"; empty = all. \
<b>Report</b> (optional): an HTML page with a contact sheet of the maps (like the paper's \
Fig. 7), each map's range and the inputs its kernels weigh most."""


class ExportFeatureMapsAlgorithm(S2CloudCnnAlgorithm):
    """Export CNN feature maps of one conv layer."""

    NAME = 'featuremaps'
    DISPLAY_NAME = 'Export CNN feature maps'
    SHORT_DESCRIPTION = ('Write what one convolutional layer of the CNN sees over a '
                         'scene, one band per filter.')
    GROUP_ID = 'inspection'
    HELP = HELP

    INPUT = 'INPUT'
    MODEL = MODEL
    MODEL_FILE = MODEL_FILE
    LAYER = 'LAYER'
    FILTERS = 'FILTERS'
    OUTPUT = 'OUTPUT'
    REPORT = 'REPORT'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.INPUT, self.tr('Reflectance stack (band descriptions name the bands)')))
        add_model_parameters(self)
        self.addParameter(QgsProcessingParameterNumber(
            self.LAYER, self.tr('Convolutional layer (1 = first)'),
            NUMBER_INTEGER, defaultValue=1, minValue=1))
        self.addParameter(QgsProcessingParameterString(
            self.FILTERS, self.tr('Filters, e.g. "1, 3, 5-8" (empty = all)'), optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr('Feature maps')))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr('HTML report with contact sheet'), 'HTML files (*.html)',
            optional=True, createByDefault=False))

    def checkParameterValues(self, parameters, context):
        """Require a model file when the custom model is chosen."""
        ok, message = check_model_choice(self, parameters, context)
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Compute the maps block by block and write the optional report."""
        stack = self.parameterAsRasterLayer(parameters, self.INPUT, context).source()
        layer = self.parameterAsInt(parameters, self.LAYER, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        report = self.parameterAsFileOutput(parameters, self.REPORT, context) or None
        with reported_as_processing_errors():
            model = model_path(self, parameters, context)
            filters = parse_values(self.parameterAsString(parameters, self.FILTERS, context),
                                   'filters')
            result = export_feature_maps(stack, model, output, layer,
                                         MapOptions(filters=filters, report_path=report),
                                         run_context(feedback))
        feedback.pushInfo(f'{len(result.filters)} map(s) of conv{layer}: {result.meaning}')
        return {self.OUTPUT: result.path, self.REPORT: report}
