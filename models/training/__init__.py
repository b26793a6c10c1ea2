"""PyTorch training pipeline of the S2 Cloud CNN models (developer tool, not shipped)."""
