"""Converting other codes' BAGS checkpoints into this package's layout.

Plain torch and :mod:`mmdet_bags.grouping`; no MMDetection model code.
"""
from .bags_checkpoints import (SOURCES, ConvertedCheckpoint,
                               convert_bags_checkpoint,
                               convert_checkpoint_file, read_original_tables)
from .checkpoint_files import CheckpointConversionError, load_checkpoint_file
from .classifier_columns import (bags_column_tags, eqlv2_column_tags,
                                 original_column_tags,
                                 original_column_tags_from_tables,
                                 rows_for_layout)
from .mmdet_v1 import is_mmdet_v1_state_dict, upgrade_mmdet_v1_state_dict

__all__ = [
    'SOURCES', 'CheckpointConversionError', 'ConvertedCheckpoint',
    'convert_bags_checkpoint', 'convert_checkpoint_file',
    'load_checkpoint_file', 'read_original_tables', 'bags_column_tags',
    'eqlv2_column_tags', 'original_column_tags',
    'original_column_tags_from_tables', 'rows_for_layout',
    'is_mmdet_v1_state_dict', 'upgrade_mmdet_v1_state_dict'
]
