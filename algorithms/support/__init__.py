"""Helpers of the Processing algorithms: the base class, parameters, styles, QGIS compatibility."""
