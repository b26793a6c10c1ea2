"""S2 Cloud CNN QGIS plugin."""


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    """Return the plugin instance QGIS loads (the desktop and qgis_process alike)."""
    from qgis.core import QgsApplication

    from .algorithms.core import dependencies

    # Before the plugin's modules import anything that "Install Python dependencies…" installs.
    dependencies.activate_package_folder(
        dependencies.package_folder(QgsApplication.qgisSettingsDirPath()))
    from .plugin import S2CloudCnnPlugin

    return S2CloudCnnPlugin(iface)
