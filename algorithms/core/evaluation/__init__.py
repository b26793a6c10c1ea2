"""Evaluation of a cloud mask against a ground truth: metrics, error maps, reports, summaries."""
