"""Datasets: a deterministic synthetic long-tail set in LVIS v1 format (and
the same set in COCO format).

The generator is pure numpy/OpenCV/pycocotools: nothing in it imports model
code. ``LVISFormatDataset`` is the MMDetection dataset that reads such files
(or any LVIS-format file) with the classes the file lists.
"""
from .coco_lt import COCO_LT_BIN_EDGES, build_coco_lt, long_tail_targets
from .json_files import write_json
from .lvis_format import LVISFormatDataset
from .synthetic import (COLOURS, LVIS_BIN_EDGES, MAX_CLASSES, PRESETS, SHAPES,
                        TEXTURES, ClassAppearance, LongTailPlan,
                        LongTailSettings, SplitPlan, class_catalogue,
                        encode_mask, generate_longtail_coco,
                        generate_longtail_lvis, lvis_frequency, lvis_to_coco,
                        lvis_v1_instance_counts, pick_long_tail_counts,
                        plan_long_tail_dataset, render_image, rescale_counts,
                        resolve_settings, scaled_bin_edges)

__all__ = [
    'LVISFormatDataset', 'generate_longtail_coco', 'lvis_to_coco',
    'write_json', 'COCO_LT_BIN_EDGES', 'build_coco_lt', 'long_tail_targets',
    'COLOURS', 'LVIS_BIN_EDGES', 'MAX_CLASSES', 'PRESETS', 'SHAPES',
    'TEXTURES', 'ClassAppearance', 'LongTailPlan', 'LongTailSettings',
    'SplitPlan', 'class_catalogue', 'encode_mask',
    'generate_longtail_lvis', 'lvis_frequency', 'lvis_v1_instance_counts',
    'pick_long_tail_counts', 'plan_long_tail_dataset', 'render_image',
    'rescale_counts', 'resolve_settings', 'scaled_bin_edges'
]
