"""Processing algorithm: convolve a stack with layer-1 kernels from a kernel database file."""

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .core.evaluation.metrics import parse_values
from .core.inspection.features import MapOptions, apply_kernels
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context

HELP = """Convolves a reflectance stack with the layer-1 kernels of a kernel database (from \
"Export kernel database"), without the CNN or onnxruntime: the result equals the model's own \
layer-1 feature maps ("Export CNN feature maps", layer 1) to float precision.

Each output band f = a(bias[f] + sum over bands and the 3x3 neighbourhood of \
weights x reflectance), with the file's reflectance-space kernels, the paper's zero border \
outside the image and at no-data pixels, and the file's activation a (leaky ReLU or ReLU). \
No-data pixels are NaN in the output.

<b>Input</b>: a raster whose band descriptions name the file's bands (any order, extra bands \
ignored), in reflectance (unit 1). <b>Filters</b>: e.g. "1, 3, 5-8"; empty = all. Works block \
by block, so a full tile needs little memory."""


class ApplyKernelsAlgorithm(S2CloudCnnAlgorithm):
    """Apply layer-1 kernels of a kernel database to a stack."""

    NAME = 'applykernels'
    DISPLAY_NAME = 'Apply kernels'
    SHORT_DESCRIPTION = ('Convolve a reflectance stack with layer-1 kernels of a '
                         'kernel database, without the CNN.')
    GROUP_ID = 'inspection'
    HELP = HELP

    INPUT = 'INPUT'
    KERNELS = 'KERNELS'
    FILTERS = 'FILTERS'
    OUTPUT = 'OUTPUT'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.INPUT, self.tr('Reflectance stack (band descriptions name the bands)')))
        self.addParameter(QgsProcessingParameterFile(
            self.KERNELS, self.tr('Kernel database of layer 1 (JSON)'), extension='json'))
        self.addParameter(QgsProcessingParameterString(
            self.FILTERS, self.tr('Filters, e.g. "1, 3, 5-8" (empty = all)'), optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr('Kernel feature maps')))

    def processAlgorithm(self, parameters, context, feedback):
        """Convolve block by block."""
        stack = self.parameterAsRasterLayer(parameters, self.INPUT, context).source()
        kernels = self.parameterAsFile(parameters, self.KERNELS, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        with reported_as_processing_errors():
            filters = parse_values(self.parameterAsString(parameters, self.FILTERS, context),
                                   'filters')
            result = apply_kernels(stack, kernels, output, MapOptions(filters=filters),
                                   run_context(feedback))
        feedback.pushInfo(f'{len(result.filters)} map(s): {result.meaning}')
        return {self.OUTPUT: result.path}
