"""QGIS plugin entry: registers the S2 Cloud CNN Processing provider."""

from qgis.core import QgsApplication

from .algorithms.core import dependencies
from .algorithms.provider import S2CloudCnnProvider


class S2CloudCnnPlugin:
    """Adds the provider to the Processing registry and removes it on unload."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.installer = None

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
