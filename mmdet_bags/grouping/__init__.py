"""Turning per-class training-instance counts into BAGS groups.

Pure Python/torch: no MMDetection model code is imported here.
"""
from .bins import (DEFAULT_BIN_EDGES, bin_interval, bin_intervals,
                   bin_labels, bin_of_count, bin_sizes, classes_per_bin,
                   format_interval, validate_bin_edges)
from .class_names import canonical_class_name, class_name_mismatch
from .layout import GroupLayout
from .sources import (BUILTIN_TABLES, CategoryTable, ResolvedGroups,
                      build_group_layout, check_class_names,
                      count_instances_in_annotation_file, load_builtin_table,
                      resolve_groups)

__all__ = [
    'DEFAULT_BIN_EDGES', 'bin_interval', 'bin_intervals', 'bin_labels',
    'bin_of_count', 'bin_sizes', 'classes_per_bin', 'format_interval',
    'validate_bin_edges', 'canonical_class_name', 'class_name_mismatch',
    'GroupLayout',
    'BUILTIN_TABLES', 'CategoryTable', 'ResolvedGroups', 'build_group_layout',
    'check_class_names', 'count_instances_in_annotation_file',
    'load_builtin_table', 'resolve_groups'
]
