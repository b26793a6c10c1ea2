"""S2 Cloud CNN QGIS plugin."""


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    """Return the plugin instance QGIS loads."""
    from .plugin import S2CloudCnnPlugin

    return S2CloudCnnPlugin(iface)
