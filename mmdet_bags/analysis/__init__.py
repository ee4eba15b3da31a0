"""Analysis helpers used by the command-line tools in ``tools/analysis``."""
from .group_stats import (format_group_table, load_category_table,
                          plot_group_histogram, summarize_groups)

__all__ = [
    'format_group_table', 'load_category_table', 'plot_group_histogram',
    'summarize_groups'
]
