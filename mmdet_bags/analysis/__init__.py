"""Analysis helpers used by the command-line tools in ``tools/analysis``."""
from .group_stats import (check_bin_edges, default_min_group_classes,
                          format_group_table, load_category_table,
                          plot_group_histogram, suggest_bin_edges,
                          summarize_groups)

__all__ = [
    'check_bin_edges', 'default_min_group_classes', 'format_group_table',
    'load_category_table', 'plot_group_histogram', 'suggest_bin_edges',
    'summarize_groups'
]
