"""The INPUT raster / PRODUCT pair of parameters that Detect clouds and Build reference share."""

from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterLayer

INPUT = 'INPUT'
PRODUCT = 'PRODUCT'


def add_raster_or_product_parameters(algorithm, raster_label):
    """Declare an optional input raster and an optional L1C product (one of them is given)."""
    algorithm.addParameter(QgsProcessingParameterRasterLayer(
        INPUT, algorithm.tr(raster_label), optional=True))
    algorithm.addParameter(QgsProcessingParameterFile(
        PRODUCT, algorithm.tr('Or Sentinel-2 L1C product (SAFE folder, .zip or '
                              'MTD_MSIL1C.xml)'), optional=True))


def input_source(algorithm, parameters, context):
    """The path to work on: the INPUT raster's source, else the PRODUCT path."""
    layer = algorithm.parameterAsRasterLayer(parameters, INPUT, context)
    return layer.source() if layer else algorithm.parameterAsFile(parameters, PRODUCT, context)


def check_raster_or_product(algorithm, parameters, context):
    """(ok, message): exactly one of INPUT and PRODUCT is given."""
    has_raster = algorithm.parameterAsRasterLayer(parameters, INPUT, context) is not None
    if has_raster == bool(algorithm.parameterAsFile(parameters, PRODUCT, context)):
        return False, algorithm.tr('Give either an input raster (INPUT) or a Sentinel-2 L1C '
                                   'product (PRODUCT), not both and not neither.')
    return True, ''
