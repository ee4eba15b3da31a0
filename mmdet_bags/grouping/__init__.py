"""Turning per-class training-instance counts into BAGS groups.

Pure Python/torch: no MMDetection model code is imported here.
"""
from .layout import (DEFAULT_BIN_EDGES, GroupLayout, bin_of_count,
                     validate_bin_edges)
from .sources import (BUILTIN_TABLES, CategoryTable, ResolvedGroups,
                      build_group_layout, canonical_class_name,
                      check_class_names, count_instances_in_annotation_file,
                      load_builtin_table, resolve_groups)

__all__ = [
    'DEFAULT_BIN_EDGES', 'GroupLayout', 'bin_of_count', 'validate_bin_edges',
    'BUILTIN_TABLES', 'CategoryTable', 'ResolvedGroups', 'build_group_layout',
    'canonical_class_name', 'check_class_names',
    'count_instances_in_annotation_file', 'load_builtin_table',
    'resolve_groups'
]
