"""Evaluation metrics (registered into ``mmdet.registry.METRICS``)."""
from .metrics import (EMPTY_BIN_AP, PerBinCocoMetric, PerBinLVISMetric, bin_count_ranges,
                      bin_of_instance_count, per_bin_average_precision,
                      per_category_average_precision)

__all__ = [
    'EMPTY_BIN_AP', 'PerBinCocoMetric', 'PerBinLVISMetric', 'bin_count_ranges',
    'bin_of_instance_count', 'per_bin_average_precision',
    'per_category_average_precision'
]
