"""Shared behaviour of the S2 Cloud CNN Processing algorithms."""

import contextlib
import os

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from ..core.errors import S2CloudCnnError
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
        """Refuse raster outputs in a format the plugin does not write, then QGIS's checks."""
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
    """Run core code with GDAL exceptions on; its typed errors become one QgsProcessingException.

    GDAL's own mode is restored afterwards, so QGIS and other plugins keep theirs.
    """
    try:
        with gdal_exceptions():
            yield
    except S2CloudCnnError as error:
        raise QgsProcessingException(str(error)) from error
