"""Processing algorithm: stack the 13 bands of a Sentinel-2 L1C product at 60 m."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterExtent,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from .core.sentinel2.product import open_product
from .core.sentinel2.stack import StackOptions, stack_l1c
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.qgis_compat import NUMBER_INTEGER, SOURCE_FILE, advanced
from .support.raster_or_product import product_file_parameter
from .support.styles import style_raster_output

HELP = """Reads a Sentinel-2 Level-1C product and writes its 13 bands (B01 ... B8A ... B12) \
at 60 m, in top-of-atmosphere reflectance, as the cloud detector expects.

<b>Product</b>: a SAFE folder, a zipped SAFE (read in place, never unzipped), its \
MTD_MSIL1C.xml, the 2015-2016 OPER/PDMC format, or a folder of band files named the ESA way \
(*_B01.jp2 ... *_B12.jp2, or GeoTIFF). In the dialog, the file browser shows product zips \
and MTD files: for an unzipped SAFE folder pick its MTD_MSIL1C.xml, or type the folder path. \
<b>Band files</b>: a list of such files instead.

<b>Reflectance</b> = (DN + RADIO_ADD_OFFSET) / QUANTIFICATION_VALUE, both read from the \
product metadata (baseline 04.00 and later: offset -1000; earlier: none). Level-2A products \
are refused: the model was trained on Level-1C top-of-atmosphere reflectance.

<b>Resampling</b>: 10 m and 20 m bands are area-averaged (the mean of the 36 or 9 pixels in \
each 60 m pixel, what a 60 m detector would measure); 60 m bands are kept as they are. The grid \
is the tile's own 60 m grid.

<b>No data</b>: DN 0. A 60 m pixel is NaN on every band if any of its source pixels, in any \
band, is no data.

<b>Output</b>: Float32 reflectance (unit 1), NaN as no data, tiled and DEFLATE-compressed, \
band names with wavelengths, product metadata. Float32 keeps the exact reflectance of the \
averaged bands (scaled integers would round them) and NaN needs no sentinel value.

<b>Extent</b> (optional): crop to an area, snapped outward to the 60 m grid; any CRS. \
<b>UTM zone</b> (optional): for products over two UTM zones, the zone to stack (default: the \
zone of most granules). <b>Pixel size</b> (optional): 120 m, 180 m ... by the same area \
mean, for a quick look; the cloud model needs 60 m.

<b>Decode 10 m bands at 20 m</b> (optional, off by default): JPEG2000 decoding is nearly \
all of the time on a fully imaged tile; this reads the 10 m bands at their 20 m resolution \
level (about half the stacking time) and area-averages that. The wavelet's 20 m level is not \
an exact area mean: on a real tile B02-B04 differed by 0.4-1.5 % and B08 by 3 % of the mean \
reflectance (README, Performance), and at the swath edge a few partly imaged pixels get a \
value. Leave it off for the cloud model's exact input."""


class StackL1cAlgorithm(S2CloudCnnAlgorithm):
    """Stack Sentinel-2 L1C bands at 60 m in TOA reflectance."""

    NAME = 'stackl1c'
    DISPLAY_NAME = 'Stack L1C bands at 60 m'
    SHORT_DESCRIPTION = ('Stack the 13 bands of a Sentinel-2 L1C product at 60 m in '
                         'top-of-atmosphere reflectance.')
    GROUP_ID = 'preprocessing'
    HELP = HELP

    INPUT = 'INPUT'
    BAND_FILES = 'BAND_FILES'
    EXTENT = 'EXTENT'
    CRS = 'CRS'
    RESOLUTION = 'RESOLUTION'
    FAST_DECODE = 'FAST_DECODE'
    OUTPUT = 'OUTPUT'
    VALID_FRACTION = 'VALID_FRACTION'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        self.addParameter(product_file_parameter(
            self.INPUT, self.tr('Sentinel-2 L1C product (.zip, or MTD_MSIL1C.xml in a SAFE '
                                'folder; a typed SAFE or band-file folder works too)')))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.BAND_FILES, self.tr('Band files *_B01 ... *_B12 (instead of a product)'),
            SOURCE_FILE, optional=True))
        self.addParameter(QgsProcessingParameterExtent(
            self.EXTENT, self.tr('Crop to extent'), optional=True))
        crs = QgsProcessingParameterCrs(
            self.CRS, self.tr('UTM zone for products over two zones (default: main zone)'),
            optional=True)
        resolution = QgsProcessingParameterNumber(
            self.RESOLUTION, self.tr('Pixel size in metres (a multiple of 60; the model needs 60)'),
            NUMBER_INTEGER, defaultValue=60, minValue=60)
        fast_decode = QgsProcessingParameterBoolean(
            self.FAST_DECODE, self.tr('Decode 10 m bands at 20 m (faster, approximate)'),
            defaultValue=False)
        for parameter in (crs, resolution, fast_decode):
            self.addParameter(advanced(parameter))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr('13-band reflectance stack at 60 m')))
        self.addOutput(QgsProcessingOutputNumber(
            self.VALID_FRACTION, self.tr('Fraction of valid pixels')))

    def checkParameterValues(self, parameters, context):
        """Require a product or band files, not both."""
        has_input = bool(self.parameterAsFile(parameters, self.INPUT, context))
        has_files = bool(self._band_files(parameters, context))
        if has_input == has_files:
            return False, self.tr('Give either a Sentinel-2 L1C product (INPUT) or its band '
                                  'files (BAND_FILES), not both and not neither.')
        return self.check_parameters_except(parameters, context, self.INPUT)

    def processAlgorithm(self, parameters, context, feedback):
        """Open the product, resolve zone and extent, and stack it."""
        source = (self.parameterAsFile(parameters, self.INPUT, context)
                  or self._band_files(parameters, context))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        with reported_as_processing_errors():
            product = open_product(source)
            epsg = product.choose_epsg(self._epsg(parameters, context))
            extent, extent_crs = self._extent(parameters, context)
            feedback.pushInfo(f'{product.product_id} ({product.kind}, baseline '
                              f'{product.processing_baseline or "unknown"}), EPSG:{epsg}')
            options = StackOptions(
                extent=extent, extent_crs=extent_crs, epsg=epsg,
                resolution=self.parameterAsInt(parameters, self.RESOLUTION, context),
                decode_level=int(self.parameterAsBool(parameters, self.FAST_DECODE, context)))
            result = stack_l1c(product, output, options, run_context(feedback))
        for note in result.notes:
            feedback.pushWarning(note)
        feedback.pushInfo(f'{result.width} x {result.height} pixels, '
                          f'{100 * result.valid_fraction:.1f} % valid')
        style_raster_output(result.path, 'stack.qml', context)  # natural colour B04 B03 B02
        return {self.OUTPUT: result.path, self.VALID_FRACTION: result.valid_fraction}

    def _band_files(self, parameters, context):
        # An unset multiple-file parameter reads as [''].
        return [f for f in self.parameterAsFileList(parameters, self.BAND_FILES, context) if f]

    def _epsg(self, parameters, context):
        crs = self.parameterAsCrs(parameters, self.CRS, context)
        if not crs.isValid():
            return None
        code = crs.authid().split(':')[-1]
        return int(code) if code.isdigit() else -1

    def _extent(self, parameters, context):
        """(box, CRS WKT) of the extent as given, or (None, None); the core reprojects it."""
        if not parameters.get(self.EXTENT):
            return None, None
        rect = self.parameterAsExtent(parameters, self.EXTENT, context)
        crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        return ((rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()),
                crs.toWkt() if crs.isValid() else None)
