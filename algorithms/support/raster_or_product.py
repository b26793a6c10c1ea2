"""The INPUT / PRODUCT pair of parameters that Detect clouds and Build reference share.

INPUT takes a band stack (a layer or raster file) or, as scripts and users try first, an L1C
product itself; PRODUCT is the same product picked with a file dialog. One of them is given.
"""

import os

from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterLayer

INPUT = 'INPUT'
PRODUCT = 'PRODUCT'
PRODUCT_NAMES = ('.zip', '.safe', 'mtd_msil1c.xml', 'mtd_safl1c.xml')
# A file dialog cannot pick a folder: it offers the zips and the product metadata file inside an
# unzipped .SAFE folder (MTD_MSIL1C.xml, or S2A_OPER_MTD_SAFL1C_*.xml of the 2015-2016 format).
PRODUCT_FILE_FILTER = ('Sentinel-2 L1C products (*.zip *.ZIP MTD_MSIL1C.xml *MTD_SAFL1C*.xml);;'
                       'All files (*)')


def add_raster_or_product_parameters(algorithm, raster_label):
    """Declare INPUT (stack or product) and PRODUCT (a product file), both optional."""
    algorithm.addParameter(QgsProcessingParameterRasterLayer(
        INPUT, algorithm.tr(raster_label), optional=True))
    algorithm.addParameter(product_file_parameter(
        PRODUCT, algorithm.tr('Or Sentinel-2 L1C product (.zip, or MTD_MSIL1C.xml in a SAFE '
                              'folder; instead of the input above)')))


def product_file_parameter(name, label):
    """An optional file parameter whose dialog offers L1C product zips and metadata files."""
    return QgsProcessingParameterFile(name, label, optional=True, fileFilter=PRODUCT_FILE_FILTER)


def product_in_input(parameters):
    """The L1C product path given in INPUT (.zip, SAFE or band folder, MTD file), else None."""
    value = parameters.get(INPUT)
    if not isinstance(value, str) or not value:
        return None
    name = value.rstrip('/\\').lower()
    return value if name.endswith(PRODUCT_NAMES) or os.path.isdir(value) else None


def has_raster_input(algorithm, parameters, context):
    """Whether INPUT is a band stack (a raster, not a product)."""
    return product_in_input(parameters) is None and \
        algorithm.parameterAsRasterLayer(parameters, INPUT, context) is not None


def input_source(algorithm, parameters, context):
    """The path to work on: the product or raster in INPUT, else the PRODUCT path."""
    product = product_in_input(parameters)
    if product:
        return product
    layer = algorithm.parameterAsRasterLayer(parameters, INPUT, context)
    return layer.source() if layer else algorithm.parameterAsFile(parameters, PRODUCT, context)


def product_parameters(parameters):
    """The parameters that hold a product, which QGIS's own checks cannot open as a layer."""
    return (PRODUCT, INPUT) if product_in_input(parameters) else (PRODUCT,)


def check_raster_or_product(algorithm, parameters, context):
    """(ok, message): exactly one of INPUT and PRODUCT is given."""
    has_input = product_in_input(parameters) is not None or \
        algorithm.parameterAsRasterLayer(parameters, INPUT, context) is not None
    if has_input == bool(algorithm.parameterAsFile(parameters, PRODUCT, context)):
        return False, algorithm.tr(
            'Give the band stack or the L1C product as the input, or the product in the '
            'product field below it; one of the two, not both.')
    return True, ''
