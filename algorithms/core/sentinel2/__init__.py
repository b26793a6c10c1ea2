"""Sentinel-2 Level-1C: band names, product reading, area-mean resampling, the 60 m stack."""
