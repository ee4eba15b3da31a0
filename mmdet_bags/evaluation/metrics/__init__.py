"""Metrics registered into ``mmdet.registry.METRICS`` on import."""
from .per_bin_coco_metric import PerBinCocoMetric
from .per_bin_lvis_metric import (EMPTY_BIN_AP, PerBinLVISMetric,
                                  bin_count_ranges, bin_of_instance_count,
                                  per_bin_average_precision,
                                  per_category_average_precision)

__all__ = [
    'EMPTY_BIN_AP', 'PerBinCocoMetric', 'PerBinLVISMetric', 'bin_count_ranges',
    'bin_of_instance_count', 'per_bin_average_precision',
    'per_category_average_precision'
]
