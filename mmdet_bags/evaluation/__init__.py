"""Evaluation metrics (registered into ``mmdet.registry.METRICS``)."""
