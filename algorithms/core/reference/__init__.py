"""Cloud references the ALCD way (Baetens et al. 2019).

Seeds placed by a person, a random forest on per-pixel features, rounds until the map is right.
"""
