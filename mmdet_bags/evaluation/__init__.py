"""Evaluation: per-bin metrics (registered into ``mmdet.registry.METRICS``),
Fixed AP and Pooled AP."""
from .class_top_k import ClassTopK, top_k_per_class
from .fixed_ap import evaluate_ap_fixed
from .metrics import PerBinCocoMetric, PerBinLVISMetric
from .per_bin import (EMPTY_BIN_AP, bin_count_ranges, bin_of_instance_count,
                      per_bin_average_precision,
                      per_category_average_precision)
from .pooled_ap import evaluate_ap_pooled

__all__ = [
    'EMPTY_BIN_AP', 'ClassTopK', 'PerBinCocoMetric', 'PerBinLVISMetric',
    'bin_count_ranges', 'bin_of_instance_count', 'evaluate_ap_fixed',
    'evaluate_ap_pooled', 'per_bin_average_precision',
    'per_category_average_precision', 'top_k_per_class'
]
