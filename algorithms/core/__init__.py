"""QGIS-free core of S2 Cloud CNN: products, resampling, inference, metrics."""
