"""Datasets: a deterministic synthetic long-tail set in LVIS v1 format.

Pure numpy/OpenCV/pycocotools: nothing here imports model code.
"""
from .synthetic_longtail import (COLOURS, LVIS_BIN_EDGES, MAX_CLASSES,
                                 PRESETS, SHAPES, TEXTURES, ClassAppearance,
                                 LongTailPlan, LongTailSettings, SplitPlan,
                                 bin_sizes, class_catalogue, encode_mask,
                                 generate_longtail_lvis, lvis_frequency,
                                 lvis_v1_instance_counts,
                                 pick_long_tail_counts,
                                 plan_long_tail_dataset, render_image,
                                 rescale_counts, resolve_settings,
                                 scaled_bin_edges)

__all__ = [
    'COLOURS', 'LVIS_BIN_EDGES', 'MAX_CLASSES', 'PRESETS', 'SHAPES',
    'TEXTURES', 'ClassAppearance', 'LongTailPlan', 'LongTailSettings',
    'SplitPlan', 'bin_sizes', 'class_catalogue', 'encode_mask',
    'generate_longtail_lvis', 'lvis_frequency', 'lvis_v1_instance_counts',
    'pick_long_tail_counts', 'plan_long_tail_dataset', 'render_image',
    'rescale_counts', 'resolve_settings', 'scaled_bin_edges'
]
