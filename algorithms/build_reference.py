"""Processing algorithm: build a cloud reference from seed polygons (ALCD method)."""

from qgis.core import (
    QgsFeatureRequest,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from .core.dependencies import scikit_learn_missing_message, scikit_learn_status
from .core.reference.build import ReferenceOutputs, build_reference
from .core.reference.forest import ReferenceOptions
from .core.reference.seeds import SeedPolygons
from .support.base import S2CloudCnnAlgorithm, reported_as_processing_errors, run_context
from .support.qgis_compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_POLYGON, advanced
from .support.raster_or_product import (
    INPUT,
    PRODUCT,
    add_raster_or_product_parameters,
    check_raster_or_product,
    input_source,
    product_parameters,
)
from .support.styles import style_raster_output

HELP = """Makes a reference cloud mask (ground truth) for your own area the way the ALCD \
references of Baetens et al. (2019) were made: you draw seed polygons on classes you can \
recognise, a random forest (scikit-learn) learns them from per-pixel features (the 13 bands, \
NDVI, NDWI, NDSI, brightness, whiteness, B10 and SWIR ratios, 5 x 5 neighbourhood means and \
standard deviations) and classifies every pixel; you look at the map, add seeds where it is \
wrong or unsure, and run again.

<b>Input</b>: a raster with the 13 L1C bands named by description (the 60 m stack of <i>Stack \
Sentinel-2 L1C bands</i>), or an L1C product (SAFE folder, .zip or MTD_MSIL1C.xml: the file \
browser shows zips and MTD files), stacked to 60 m on the fly. <b>Seeds</b>: polygons in any CRS \
(reprojected onto the raster) with a class field holding ALCD codes or names: 2 opaque cloud, 3 \
thin cloud, 4 cloud shadow, 5 land, 6 water, 7 snow. At least one cloud and one clear class; \
every class needs the minimum number of pixels; polygons of two classes must not overlap.

<b>Output</b> (Byte, ALCD codes, styled with ALCD's colours): 0 no data, 1 not used, 2..7. A \
pixel becomes 1 where the forest's cloud-vs-clear vote share is below the threshold, in a ring \
of the given width at every cloud/clear boundary (mixed pixels), and, with a cirrus limit above \
0, where a clear pixel's B10 exceeds it (cirrus seen only at 1375 nm). <i>Evaluate cloud \
mask</i> reads it with its ALCD preset. <b>Vote margin</b> (Float32): winning class's vote \
share minus the runner-up's; low values show where to add seeds next. <b>Report</b> (HTML): \
seeds per class, out-of-bag accuracy, pixels per class, the rules applied.

<b>scikit-learn</b> is needed only here: tick <i>Also install scikit-learn</i> in <i>Plugins &gt; \
S2 Cloud CNN &gt; Install Python dependencies…</i> (QGIS's numpy and scipy are kept), or on Debian \
and Ubuntu install python3-sklearn."""


class BuildReferenceAlgorithm(S2CloudCnnAlgorithm):
    """Build cloud reference (ALCD method)."""

    NAME = 'buildreference'
    DISPLAY_NAME = 'Build cloud reference (ALCD)'
    SHORT_DESCRIPTION = ('Build a cloud reference map from a few seed polygons with a '
                         'random forest (the ALCD method).')
    GROUP_ID = 'evaluation'
    HELP = HELP

    INPUT = INPUT
    PRODUCT = PRODUCT
    SEEDS = 'SEEDS'
    CLASS_FIELD = 'CLASS_FIELD'
    MIN_VOTE_SHARE = 'MIN_VOTE_SHARE'
    BOUNDARY_RING = 'BOUNDARY_RING'
    CIRRUS_LIMIT = 'CIRRUS_LIMIT'
    TREES = 'TREES'
    MIN_SEED_PIXELS = 'MIN_SEED_PIXELS'
    RANDOM_SEED = 'RANDOM_SEED'
    OUTPUT = 'OUTPUT'
    MARGIN = 'MARGIN'
    REPORT = 'REPORT'
    OOB_ACCURACY = 'OOB_ACCURACY'

    def initAlgorithm(self, config=None):
        """Declare the parameters."""
        defaults = ReferenceOptions()
        add_raster_or_product_parameters(
            self, 'Input 13-band raster (bands named by description)')
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SEEDS, self.tr('Seed polygons'), [SOURCE_POLYGON]))
        self.addParameter(QgsProcessingParameterField(
            self.CLASS_FIELD, self.tr('Class field (ALCD code 2..7 or class name)'), 'class',
            self.SEEDS, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_VOTE_SHARE, self.tr('Least cloud-vs-clear vote share (below: not used)'),
            NUMBER_DOUBLE, defaults.min_vote_share, minValue=0.5, maxValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.BOUNDARY_RING, self.tr('Ring at cloud/clear boundaries (pixels, not used)'),
            NUMBER_INTEGER, defaults.boundary_ring, minValue=0, maxValue=10))
        self.addParameter(QgsProcessingParameterNumber(
            self.CIRRUS_LIMIT, self.tr('Clear pixels with B10 above this are not used (0: off)'),
            NUMBER_DOUBLE, defaults.cirrus_limit, minValue=0.0, maxValue=1.0))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.TREES, self.tr('Trees'), NUMBER_INTEGER, defaults.trees, minValue=10,
            maxValue=1000)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.MIN_SEED_PIXELS, self.tr('Least seed pixels per class'), NUMBER_INTEGER,
            defaults.min_seed_pixels, minValue=1, maxValue=100000)))
        self.addParameter(advanced(QgsProcessingParameterNumber(
            self.RANDOM_SEED, self.tr('Random seed'), NUMBER_INTEGER, defaults.seed,
            minValue=0)))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr('Cloud reference (ALCD classes)')))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.MARGIN, self.tr('Vote margin (where to add seeds next)'), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.REPORT, self.tr('Report'), self.tr('HTML files (*.html)'), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(
            self.OOB_ACCURACY, self.tr('Out-of-bag accuracy on the seed pixels')))

    def checkParameterValues(self, parameters, context):
        """Require a raster or a product (not both)."""
        ok, message = check_raster_or_product(self, parameters, context)
        if not ok:
            return ok, message
        return self.check_parameters_except(parameters, context, *product_parameters(parameters))

    def canExecute(self):
        """Report a missing scikit-learn with the installer's menu path and the pip command."""
        if scikit_learn_status().installed:
            return True, ''
        return False, scikit_learn_missing_message()

    def processAlgorithm(self, parameters, context, feedback):
        """Read the seeds, run the core builder, style the reference."""
        source = input_source(self, parameters, context)
        outputs = ReferenceOutputs(
            self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            self.optional_output_layer(parameters, self.MARGIN, context),
            self.parameterAsFileOutput(parameters, self.REPORT, context) or None)
        seeds = self._seeds(parameters, context)
        with reported_as_processing_errors():
            result = build_reference(source, seeds, outputs, self._options(parameters, context),
                                     run_context(feedback))
        feedback.pushInfo('Seed pixels: ' + ', '.join(f'{k}: {v}' for k, v in
                                                      result.seed_pixels.items())
                          + f'; out-of-bag accuracy {result.oob_accuracy:.4f}; '
                          + ', '.join(f'{k}: {v}' for k, v in result.rule_pixels.items()))
        style_raster_output(outputs.reference, 'alcd_reference.qml', context)
        return {self.OUTPUT: outputs.reference, self.MARGIN: outputs.margin,
                self.REPORT: outputs.report, self.OOB_ACCURACY: result.oob_accuracy}

    def _seeds(self, parameters, context):
        features = self.parameterAsSource(parameters, self.SEEDS, context)
        if features is None:
            raise QgsProcessingException(self.tr('The seed layer could not be loaded; give a '
                                                 'polygon layer or file'))
        field = self.parameterAsFields(parameters, self.CLASS_FIELD, context)
        field = field[0] if field else 'class'
        if features.fields().indexOf(field) < 0:
            raise QgsProcessingException(self.tr(
                'The seed layer has no field {!r}; choose the field that holds the ALCD '
                'class (fields: {})').format(field, ', '.join(features.fields().names())))
        polygons = tuple((feature.id(), feature.geometry().asWkt(), feature[field])
                         for feature in features.getFeatures(QgsFeatureRequest())
                         if feature.hasGeometry())
        crs = features.sourceCrs()
        return SeedPolygons(polygons, crs.toWkt() if crs.isValid() else None)

    def _options(self, parameters, context):
        return ReferenceOptions(
            trees=self.parameterAsInt(parameters, self.TREES, context),
            min_vote_share=self.parameterAsDouble(parameters, self.MIN_VOTE_SHARE, context),
            boundary_ring=self.parameterAsInt(parameters, self.BOUNDARY_RING, context),
            cirrus_limit=self.parameterAsDouble(parameters, self.CIRRUS_LIMIT, context),
            min_seed_pixels=self.parameterAsInt(parameters, self.MIN_SEED_PIXELS, context),
            seed=self.parameterAsInt(parameters, self.RANDOM_SEED, context))
