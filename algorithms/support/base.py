"""Shared behaviour of the S2 Cloud CNN Processing algorithms."""

import contextlib
import functools
import os

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from ..core.errors import S2CloudCnnError, plain_error
from ..core.outputs import OutputTransaction
from ..core.raster_io import gdal_exceptions
from ..core.run import RunContext
from .paths import HELP_DIR, ICON_PATH

# What the raster outputs really are: the core writes GeoTIFF, so only it is offered.
RASTER_EXTENSIONS = ('tif', 'tiff')

GROUPS = {
    'preprocessing': 'Pre-processing',
    'detection': 'Cloud detection',
    'evaluation': 'Evaluation',
    'inspection': 'Model inspection',
}


def tr(text):
    """Translate `text` in the plugin's one translation context."""
    return QCoreApplication.translate('S2CloudCnn', text)


class S2CloudCnnAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set NAME, DISPLAY_NAME, SHORT_DESCRIPTION, GROUP_ID and HELP."""

    NAME = ''
    DISPLAY_NAME = ''
    SHORT_DESCRIPTION = ''
    GROUP_ID = ''
    HELP = ''

    def __init_subclass__(cls, **kwargs):
        """Run every subclass's processAlgorithm as one output transaction (core.outputs)."""
        super().__init_subclass__(**kwargs)
        method = cls.__dict__.get('processAlgorithm')
        if method is not None:
            cls.processAlgorithm = _in_one_transaction(method)

    def preprocessParameters(self, parameters):
        """Accept an option's index for enums read as strings, as qgis_process's help offers."""
        parameters = dict(parameters)
        for definition in self.parameterDefinitions():
            value = parameters.get(definition.name())
            if (isinstance(definition, QgsProcessingParameterEnum)
                    and definition.usesStaticStrings() and str(value).isdigit()
                    and int(value) < len(definition.options())):
                parameters[definition.name()] = definition.options()[int(value)]
        return parameters

    def declared_files(self, parameters, context):
        """Return ({output parameter: path}, [input paths]) of a run, read before any work."""
        outputs, inputs = {}, []
        for definition in self.parameterDefinitions():
            name, value = definition.name(), parameters.get(definition.name())
            if isinstance(definition, (QgsProcessingParameterRasterDestination,
                                       QgsProcessingParameterFileDestination)):
                if isinstance(value, QgsProcessingOutputLayerDefinition):
                    value = value.sink.staticValue()
                if isinstance(value, str) and value and value != 'TEMPORARY_OUTPUT':
                    outputs[f'{definition.description()} ({name})'] = value
            elif isinstance(definition, QgsProcessingParameterRasterLayer) and value:
                layer = self.parameterAsRasterLayer(parameters, name, context)
                inputs.append(layer.source() if layer else str(value))
            elif isinstance(definition, QgsProcessingParameterFile) and value:
                inputs.append(self.parameterAsFile(parameters, name, context))
            elif isinstance(definition, QgsProcessingParameterMultipleLayers) and value:
                layers = self.parameterAsLayerList(parameters, name, context)
                inputs += [layer.source() for layer in layers] or self.parameterAsFileList(
                    parameters, name, context)
        return outputs, inputs

    def tr(self, text):
        """Translate `text` in the plugin's context."""
        return tr(text)

    def createInstance(self):
        """Return a fresh instance, as Processing runs each execution on its own copy."""
        return type(self)()

    def name(self):
        """Stable lowercase id, used in qgis_process and models."""
        return self.NAME

    def displayName(self):
        """Name shown in the toolbox."""
        return self.tr(self.DISPLAY_NAME)

    def groupId(self):
        """Stable group id."""
        return self.GROUP_ID

    def group(self):
        """Group name shown in the toolbox."""
        return self.tr(GROUPS[self.GROUP_ID])

    def shortHelpString(self):
        """Help shown beside the algorithm dialog."""
        return self.tr(self.HELP)

    def shortDescription(self):
        """One line shown as the toolbox tooltip and at the top of the dialog's help."""
        return self.tr(self.SHORT_DESCRIPTION)

    def helpUrl(self):
        """The help page shipped with the plugin (Help button of the dialog)."""
        return help_url(self.NAME)

    def icon(self):
        """The plugin's icon."""
        return QIcon(ICON_PATH)

    def svgIconPath(self):
        """The plugin's icon as an SVG path."""
        return ICON_PATH

    def optional_output_layer(self, parameters, name, context):
        """Path of an optional raster output, or None when the user skipped it.

        Asked of QGIS only when set: 3.22 would otherwise register the skipped output for
        loading, and the batch dialog then reports a layer that was 'not correctly generated'.
        """
        value = parameters.get(name)
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            value = value.sink.staticValue()
        if not value:
            return None
        return self.parameterAsOutputLayer(parameters, name, context) or None

    def checkParameterValues(self, parameters, context):
        """Refuse out-of-range numbers and raster formats the plugin does not write, then QGIS's.

        A number out of range is answered with its range (QGIS only says it is invalid).
        """
        parameters = self.preprocessParameters(parameters)
        for definition in self.parameterDefinitions():
            if isinstance(definition, QgsProcessingParameterNumber):
                message = _out_of_range(definition, parameters.get(definition.name()))
                if message:
                    return False, message
        for definition in self.destinationParameterDefinitions():
            path = _static_destination(parameters.get(definition.name()))
            extension = os.path.splitext(path)[1][1:].lower()
            if definition.type() == 'rasterDestination' and extension and \
                    extension not in RASTER_EXTENSIONS:
                return False, self.tr('{}: the plugin writes GeoTIFF only; name the file '
                                      '.tif instead of .{}').format(definition.description(),
                                                                    extension)
        return super().checkParameterValues(parameters, context)

    def check_parameters_except(self, parameters, context, *names):
        """Run checkParameterValues on every parameter but the product parameters `names`.

        QGIS 3.22's file parameter refuses folder names without a dot (a SAFE folder, a folder
        of band files); the core checks the product instead and says what is wrong with it.
        """
        others = {k: v for k, v in parameters.items() if k not in names}
        return S2CloudCnnAlgorithm.checkParameterValues(self, others, context)


def _static_destination(value):
    """The file name a destination parameter was given, without asking QGIS to resolve it.

    parameterAsOutputLayer would register the output for loading (and make a new temporary
    file name each time), so the check reads the value as it was passed.
    """
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    return value if isinstance(value, str) and value != 'TEMPORARY_OUTPUT' else ''


def help_url(name):
    """file:// URL of the shipped help page resources/help/<name>.html."""
    return QUrl.fromLocalFile(os.path.join(HELP_DIR, f'{name}.html')).toString()


def run_context(feedback) -> RunContext:
    """The QGIS-free core's RunContext over a QgsProcessingFeedback."""
    return RunContext(feedback.setProgress, feedback.isCanceled, feedback.pushInfo,
                      feedback.pushWarning)


@contextlib.contextmanager
def reported_as_processing_errors():
    """Run core code with GDAL exceptions on; its errors become one QgsProcessingException.

    Typed core errors keep their message; an OSError, a GDAL error or an onnxruntime failure
    that escaped them gets a plain one (core.errors.plain_error) instead of a traceback. GDAL's
    own mode is restored afterwards, so QGIS and other plugins keep theirs.
    """
    try:
        with gdal_exceptions():
            yield
    except S2CloudCnnError as error:
        raise QgsProcessingException(str(error)) from error
    except QgsProcessingException:
        raise
    except Exception as error:  # GDAL and onnxruntime raise untyped errors
        if not isinstance(error, (OSError, RuntimeError)) and not type(
                error).__module__.startswith('onnxruntime'):
            raise
        raise QgsProcessingException(str(plain_error(error))) from error


def _in_one_transaction(process):
    """Wrap processAlgorithm: its outputs are checked first and committed together at the end."""
    @functools.wraps(process)
    def wrapper(self, parameters, context, feedback):
        parameters = self.preprocessParameters(parameters)
        with reported_as_processing_errors():
            outputs, inputs = self.declared_files(parameters, context)
            with OutputTransaction(outputs, inputs, log=feedback.pushInfo):
                return process(self, parameters, context, feedback)
    return wrapper


def _out_of_range(definition, value):
    """The message for a number outside its parameter's range, or ''."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ''
    low, high = definition.minimum(), definition.maximum()
    if low <= number <= high:
        return ''
    if high < 1e300:
        template = tr('{} ({}) must be between {:.10g} and {:.10g}; {:.10g} is out of range')
        return template.format(definition.description(), definition.name(), low, high, number)
    template = tr('{} ({}) must be at least {:.10g}; {:.10g} is out of range')
    return template.format(definition.description(), definition.name(), low, number)
