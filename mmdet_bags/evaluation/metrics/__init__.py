"""Metrics registered into ``mmdet.registry.METRICS`` on import."""
from .per_bin_coco_metric import PerBinCocoMetric
from .per_bin_lvis_metric import PerBinLVISMetric

__all__ = ['PerBinCocoMetric', 'PerBinLVISMetric']
