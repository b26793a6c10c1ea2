"""QGIS plugin entry: registers the S2 Cloud CNN Processing provider."""

from qgis.core import QgsApplication

from .algorithms.provider import S2CloudCnnProvider


class S2CloudCnnPlugin:
    """Adds the provider to the Processing registry and removes it on unload."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        """Register the provider; QGIS calls this also headless (qgis_process)."""
        self.provider = S2CloudCnnProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        """Called when the plugin loads in the desktop application."""
        self.initProcessing()

    def unload(self):
        """Remove the provider when the plugin is disabled or reloaded."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
