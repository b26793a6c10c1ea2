"""Processing algorithm: write the kernel database of one conv layer (JSON and CSV)."""

from qgis.core import QgsProcessingParameterFileDestination, QgsProcessingParameterNumber

from .core.inspection.kernel_file import export_database
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors
from .support.model_choice import (
    MODEL,
    MODEL_FILE,
    add_model_parameters,
    check_model_choice,
    model_path,
)
from .support.qgis_compat import NUMBER_INTEGER

HELP = """Writes the 3x3 kernels and biases of one convolutional layer of the CNN as a kernel \
database (the paper's proposal: reuse the kernels as features outside neural networks), with \
the model id, band names, normalisation and the layer's activation.

The numbers are read back from the ONNX model by probing it, not copied from training code: \
layer 1 with unit impulses through its pre-activation output conv1_linear (exact); layers 2 \
and 3 by least squares from the model's own pooled previous activations to its conv_linear \
output (the fit's residual, recorded, proves the layer is a 3x3 convolution). With batch \
normalisation the kernels include it (folded).

<b>Layer 1</b> has two sets: <i>normalised</i> (the network's own weights, acting on \
z = (reflectance - band_mean) / band_std) and <i>reflectance</i> (the same map acting on \
reflectance directly, with the paper's zero border): map = a(bias + sum of weights x \
neighbourhood), a = the activation. <b>Layers 2, 3</b> act on the previous layer's 2 x 2 \
max-pooled activations (one input per previous filter), not on bands.

<b>Summary</b> per filter: the L1 norm of each input's 3x3 kernel (layer 1: in the normalised \
space, where bands are comparable), its share, and the three strongest inputs. The CSV has one \
row per filter, input and space (w11 ... w33 row by row, north to south), with the rank of the \
input in its filter (1 = weighs most)."""


class ExportKernelsAlgorithm(S2CloudCnnAlgorithm):
    """Export the kernel database of one conv layer."""

    NAME = 'exportkernels'
    DISPLAY_NAME = 'Export kernel database'
    SHORT_DESCRIPTION = 'Write the 3x3 kernels of one convolutional layer as JSON and CSV.'
    GROUP_ID = 'inspection'
    HELP = HELP

    MODEL = MODEL
    MODEL_FILE = MODEL_FILE
    LAYER = 'LAYER'
    OUTPUT = 'OUTPUT'
    OUTPUT_CSV = 'OUTPUT_CSV'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        add_model_parameters(self)
        self.addParameter(QgsProcessingParameterNumber(
            self.LAYER, self.tr('Convolutional layer (1 = first)'),
            NUMBER_INTEGER, defaultValue=1, minValue=1))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr('Kernel database (JSON)'), 'JSON files (*.json)'))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr('Kernel table (CSV)'), 'CSV files (*.csv)',
            optional=True, createByDefault=True))

    def checkParameterValues(self, parameters, context):
        """Require a model file when the custom model is chosen."""
        ok, message = check_model_choice(self, parameters, context)
        return (ok, message) if not ok else super().checkParameterValues(parameters, context)

    def processAlgorithm(self, parameters, context, feedback):
        """Probe the layer and write its files."""
        layer = self.parameterAsInt(parameters, self.LAYER, context)
        json_path = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        csv_path = self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context) or None
        with reported_as_processing_errors():
            model = model_path(self, parameters, context)
            document = export_database(model, layer, json_path, csv_path)
        feedback.pushInfo(f'conv{layer} of {document["model"]["model_id"]}: '
                          f'{document["filters"]} filters, activation '
                          f'{document["activation"]["name"]} (slope '
                          f'{document["activation"]["negative_slope"]}), probe residual '
                          f'{document["probe"]["max_abs_residual"]:.2g}')
        for item in document['summary']:
            feedback.pushInfo(f'filter {item["filter"]:02d}: strongest '
                              f'{", ".join(item["strongest"])}')
        return {self.OUTPUT: json_path, self.OUTPUT_CSV: csv_path}
