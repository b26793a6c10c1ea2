"""QGIS-free core of S2 Cloud CNN, by domain (see README.md, Architecture)."""
