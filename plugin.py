"""QGIS plugin entry: registers the S2 Cloud CNN Processing provider."""

import os

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from .algorithms.core import dependencies
from .algorithms.provider import S2CloudCnnProvider

I18N_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'i18n')


def translation_file(locale):
    """i18n/s2cloudcnn_<language>.qm for a QGIS locale such as 'fr_FR', or None if absent."""
    path = os.path.join(I18N_DIR, f's2cloudcnn_{(locale or "en")[:2]}.qm')
    return path if os.path.isfile(path) else None


class S2CloudCnnPlugin:
    """Adds the provider to the Processing registry and removes it on unload."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.installer = None
        self.translator = None
        path = translation_file(QgsSettings().value('locale/userLocale', 'en'))
        if path:  # before any algorithm builds its translated labels
            self.translator = QTranslator()
            if self.translator.load(path):
                QCoreApplication.installTranslator(self.translator)

    def initProcessing(self):
        """Register the provider; QGIS calls this also headless (qgis_process)."""
        self.provider = S2CloudCnnProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        """Register the provider and add the menu action when the desktop application loads."""
        from .gui.dependency_installer import DependencyInstaller

        self.initProcessing()
        # classFactory put the profile's package folder on sys.path already.
        self.installer = DependencyInstaller(self.iface, dependencies.active_package_folder())

    def unload(self):
        """Remove the provider and the menu entry when the plugin is disabled or reloaded."""
        if self.installer is not None:
            self.installer.unload()
            self.installer = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
