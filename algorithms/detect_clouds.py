"""Processing algorithm: detect clouds with the patch-to-pixel CNN, on GPU or CPU."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterExtent,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from .core.dependencies import missing_message, onnxruntime_status
from .core.detection.detect import DetectOptions, detect_clouds
from .core.inspection.first_layer import probe_conv1
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.model_choice import (
    EXECUTION_PROVIDER,
    MODEL,
    MODEL_FILE,
    THRESHOLD,
    add_model_parameters,
    add_threshold_and_provider,
    check_model_choice,
    model_path,
    static_enum,
    threshold_and_provider,
)
from .support.qgis_compat import NUMBER_INTEGER, advanced
from .support.raster_or_product import (
    INPUT,
    PRODUCT,
    add_raster_or_product_parameters,
    check_raster_or_product,
    has_raster_input,
    input_source,
    product_parameters,
)
from .support.styles import style_raster_output

NATIVE_CHOICES = ('10 m', '20 m')

HELP = """Finds clouds with the patch-to-pixel CNN of Kristollari & Karathanassi (2020): every \
pixel is classified from the 16 x 16 patch around it, zero-padded by 8 pixels at the image \
border, so the mask has exactly the input's grid.

<b>Input</b>: a raster whose bands the model needs, found by band description ('B02 \
(496.6 nm)', 'B8A', ...), e.g. the 60 m stack of <i>Stack L1C bands at 60 m</i>, in \
reflectance (Float32, unit 1; integer rasters are read as reflectance x 10000). \
<b>Or Sentinel-2 L1C product</b>: a SAFE folder, .zip or MTD_MSIL1C.xml, stacked to 60 m on the \
fly (the file browser shows zips and MTD files: for an unzipped SAFE folder pick its \
MTD_MSIL1C.xml). Give one of the two. Pixels where any band is no data (NaN or the band's \
nodata) are not inferred and stay no data.

<b>Model</b>: <i>s2cloudcnn-l1c13</i> (default) expects the 13 L1C bands at 60 m (the stack \
of <i>Stack L1C bands at 60 m</i>, or a product); it learned from pixels where two independent \
detectors (s2cloudless, Fmask) agree, plus synthetic clouds, so it reproduces those detectors \
rather than human labels. <i>s2cloudcnn-rgbn</i> (<b>experimental</b>) expects B02, B03, B04, \
B08 at 10 m in <b>Level-2A</b> surface reflectance; it learned from the human labels of 8 On \
Cloud N chips of three places and does not carry to a new place: trained without a place, it \
agrees with the human labels of that place's chips at F 0.68, where the rule B02 > 0.15 \
scores 0.91. A custom .onnx given in <i>Custom model file</i> is used instead of the bundled \
one. Either way \
its bands, pixel size and scaling are checked before any work (models/README.md has the full \
cards). <b>Threshold</b>: empty = the model's own (0.5 for the bundled ones). \
<b>Execution provider</b>: Auto uses CUDA when onnxruntime-gpu offers it and it \
starts, else the CPU; the log says which one ran, and why CUDA did not.

<b>Outputs</b>: cloud mask (Byte: 0 clear, 1 cloud, 255 no data; styled, with a .qml beside \
it), optional cloud probability (Float32, NaN no data), optional mask on the product's 10 m or \
20 m grid (nearest neighbour) to mask the native bands.

<b>Cloud and shadow mask</b> (L1C product only: it needs the sun and view angles of the tile \
metadata): Byte, 0 clear, 1 cloud, 2 shadow, 255 no data, styled. Each cloud object is \
projected along the sun and view directions for heights of 200 m to 12 km and matched against \
pixels darker than their surroundings in NIR and SWIR (Fmask's method, Zhu & Woodcock 2012). \
<b>Grow cloud and shadow by</b> N pixels: a buffer in that mask only."""


class DetectCloudsAlgorithm(S2CloudCnnAlgorithm):
    """Detect clouds (CNN)."""

    NAME = 'detectclouds'
    DISPLAY_NAME = 'Detect clouds (CNN)'
    SHORT_DESCRIPTION = ('Cloud mask of a Sentinel-2 L1C product or 60 m band stack, '
                         'from the bundled CNN.')
    GROUP_ID = 'detection'
    HELP = HELP

    INPUT = INPUT
    PRODUCT = PRODUCT
    MODEL = MODEL
    MODEL_FILE = MODEL_FILE
    THRESHOLD = THRESHOLD
    EXECUTION_PROVIDER = EXECUTION_PROVIDER
    BATCH_SIZE = 'BATCH_SIZE'
    EXTENT = 'EXTENT'
    NATIVE_RESOLUTION = 'NATIVE_RESOLUTION'
    OUTPUT = 'OUTPUT'
    PROBABILITY = 'PROBABILITY'
    OUTPUT_NATIVE = 'OUTPUT_NATIVE'
    CLOUD_SHADOW = 'CLOUD_SHADOW'
    DILATION = 'DILATION'
    SHADOW_FRACTION = 'SHADOW_FRACTION'
    CLOUD_FRACTION = 'CLOUD_FRACTION'
    PROVIDER_USED = 'PROVIDER_USED'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        add_raster_or_product_parameters(
            self, 'Input: band stack (bands named by description) or L1C product')
        add_model_parameters(self)
        add_threshold_and_provider(self)
        self.addParameter(QgsProcessingParameterExtent(
            self.EXTENT, self.tr('Only this extent'), optional=True))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.BATCH_SIZE, self.tr('Pixels per inference batch (0: 256 on CPU, 8192 on GPU)'),
            NUMBER_INTEGER, 0, minValue=0, maxValue=1 << 20)))
        self.addParameter(advanced(static_enum(
            self.NATIVE_RESOLUTION, self.tr('Grid of the native-resolution mask'),
            NATIVE_CHOICES)))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr('Cloud mask')))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.PROBABILITY, self.tr('Cloud probability'), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT_NATIVE, self.tr('Cloud mask on the 10 m / 20 m grid'), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterNumber(
            self.DILATION, self.tr('Grow cloud and shadow by (pixels, cloud and shadow mask)'),
            NUMBER_INTEGER, 0, minValue=0, maxValue=100))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.CLOUD_SHADOW, self.tr('Cloud and shadow mask (L1C product only)'),
            optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(
            self.CLOUD_FRACTION, self.tr('Cloud fraction of the valid pixels')))
        self.addOutput(QgsProcessingOutputNumber(
            self.SHADOW_FRACTION, self.tr('Shadow fraction of the valid pixels')))
        self.addOutput(QgsProcessingOutputString(
            self.PROVIDER_USED, self.tr('Execution provider used')))

    def canExecute(self):
        """Report a missing onnxruntime with the command that installs it."""
        if onnxruntime_status().installed:
            return True, ''
        return False, missing_message()

    def checkParameterValues(self, parameters, context):
        """Require a raster or a product, and a model file when the custom model is chosen."""
        ok, message = check_raster_or_product(self, parameters, context)
        if not ok:
            return ok, message
        if has_raster_input(self, parameters, context) and self.optional_output_layer(
                parameters, self.CLOUD_SHADOW, context):
            return False, self.tr('The cloud and shadow mask needs the sun and view angles of '
                                  'an L1C product, which a band stack lacks: give the product '
                                  '(INPUT or PRODUCT), or leave CLOUD_SHADOW empty.')
        ok, message = check_model_choice(self, parameters, context)
        if not ok:
            return ok, message
        return self.check_parameters_except(parameters, context, *product_parameters(parameters))

    def processAlgorithm(self, parameters, context, feedback):
        """Read the parameters, run the core detector, style the mask."""
        source = input_source(self, parameters, context)
        mask = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        with reported_as_processing_errors():
            options = self._options(parameters, context)
            model = model_path(self, parameters, context)
            feedback.pushInfo(f'Model: {model}')
            result = detect_clouds(source, mask, model, options, run_context(feedback))
        feedback.pushInfo(f'{result.valid_pixels} valid pixels, {result.cloud_fraction:.1%} '
                          f'cloud at threshold {result.threshold:g}, {result.seconds:.1f} s')
        style_raster_output(mask, 'mask.qml', context)
        if result.probability_path:
            style_raster_output(result.probability_path, 'probability.qml', context, below=mask)
        if result.native_mask_path:
            style_raster_output(result.native_mask_path, 'mask.qml', context)
        shadows = result.cloud_shadow
        if shadows:
            feedback.pushInfo(f'{shadows.objects_with_shadow} of {shadows.objects} cloud objects '
                              f'cast a shadow (median height {shadows.median_height_m:.0f} m): '
                              f'{shadows.shadow_fraction:.1%} shadow')
            style_raster_output(shadows.path, 'cloud_shadow.qml', context)
        return {self.OUTPUT: mask, self.PROBABILITY: result.probability_path,
                self.OUTPUT_NATIVE: result.native_mask_path,
                self.CLOUD_SHADOW: shadows.path if shadows else None,
                self.CLOUD_FRACTION: result.cloud_fraction,
                self.SHADOW_FRACTION: shadows.shadow_fraction if shadows else None,
                self.PROVIDER_USED: result.provider}

    def _options(self, parameters, context):
        threshold, provider = threshold_and_provider(self, parameters, context)
        extent = None
        if parameters.get(self.EXTENT):
            rect = self.parameterAsExtent(parameters, self.EXTENT, context)
            extent = (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        native = self.optional_output_layer(parameters, self.OUTPUT_NATIVE, context)
        resolution = self.parameterAsEnumString(parameters, self.NATIVE_RESOLUTION, context)
        return DetectOptions(
            probability_path=self.optional_output_layer(parameters, self.PROBABILITY, context),
            threshold=threshold, provider=provider, extent=extent,
            extent_crs=crs.toWkt() if extent and crs.isValid() else None,
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            native_resolution=int(resolution.split()[0]) if native else None,
            native_mask_path=native or None,
            cloud_shadow_path=self.optional_output_layer(parameters, self.CLOUD_SHADOW, context),
            dilation=self.parameterAsInt(parameters, self.DILATION, context),
            first_layer_probe=probe_conv1)

