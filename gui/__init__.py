"""QGIS desktop glue of the plugin that is not Processing (menu actions)."""
