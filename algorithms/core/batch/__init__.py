"""Jobs over many products: one row per product, failures recorded, resumable, on Dask too."""
