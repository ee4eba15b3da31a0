"""MMDetection v1 state dicts in MMDetection 3.x names and channel layouts.

The facts (MMDetection's ``tools/model_converters/upgrade_model_version.py``
and its ``configs/legacy_1.x`` README, checked against the v1.0rc0 code the
original BAGS code forks):

* two-stage detectors moved their RoI heads under ``roi_head.``
  (``bbox_head``, ``mask_head``, ``semantic_head``, ``shared_head`` ...);
  cascade stages keep their index (``bbox_head.0.`` ->
  ``roi_head.bbox_head.0.``); backbone, neck and RPN keys are unchanged (the
  sigmoid RPN's one logit per anchor means "object" in both);
* v1 labels are ``0 = background, 1 .. C = classes``; v2+ labels are
  ``0 .. C-1 = classes``, and class-specific regression (``fc_reg``) and
  mask logits (``conv_logits``) no longer have a background slot: its rows
  are dropped and every class moves down by one;
* v1's deformable ResNet/ResNeXt blocks keep the offset conv beside the
  deformable conv (``layerX.Y.conv2_offset``); mmcv's ``DeformConv2dPack``
  holds it inside (``layerX.Y.conv2.conv_offset``).

The classifier (``fc_cls``) is not touched here: a BAGS classifier is
re-ordered by :mod:`mmdet_bags.converters.bags_checkpoints`.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch

#: v1 top-level modules that moved under ``roi_head.``.
V1_ROI_HEAD_MODULES: Tuple[str, ...] = ('bbox_head', 'mask_head',
                                        'semantic_head', 'shared_head',
                                        'grid_head', 'mask_iou_head')

_FC_REG = re.compile(r'^roi_head\.bbox_head\.(\d+\.)?fc_reg\.(weight|bias)$')
_MASK_LOGITS = re.compile(
    r'^roi_head\.mask_head\.(\d+\.)?conv_logits\.(weight|bias)$')
_DCN_OFFSET = re.compile(r'^(backbone\..*\.conv2)_offset\.(weight|bias)$')
_HTC_FIRST_CONV_RES = re.compile(r'^roi_head\.mask_head\.0\.conv_res\.')


def is_mmdet_v1_state_dict(state_dict: Dict[str, torch.Tensor]) -> bool:
    """Whether the keys are laid out as MMDetection v1 two-stage models:
    RoI heads at the top level, next to ``rpn_head``, no ``roi_head.``."""
    has_top_level_head = any(
        key.split('.', 1)[0] in V1_ROI_HEAD_MODULES for key in state_dict)
    has_roi_head = any(key.startswith('roi_head.') for key in state_dict)
    return has_top_level_head and not has_roi_head


def _drop_background_slot(tensor: torch.Tensor, num_classes_v1: int,
                          key: str, what: str) -> torch.Tensor:
    """Drop the background's rows (the first ``rows / num_classes_v1``)."""
    rows = tensor.size(0)
    if rows % num_classes_v1 != 0:
        raise ValueError(
            f'{key} has {rows} output rows, expected {what} for '
            f'{num_classes_v1} mmdet v1 classes (background included)')
    per_class = rows // num_classes_v1
    return tensor[per_class:].clone()


def upgrade_mmdet_v1_state_dict(
        state_dict: Dict[str, torch.Tensor],
        num_classes_v1: int) -> Tuple['OrderedDict[str, torch.Tensor]',
                                      List[str]]:
    """Rename and re-slice an MMDetection v1 two-stage state dict for 3.x.

    ``fc_cls`` weights are renamed only.

    Args:
        state_dict (dict[str, Tensor]): the v1 model's weights.
        num_classes_v1 (int): the v1 head's ``num_classes``, background
            included (1231 for LVIS v0.5).

    Returns:
        tuple: the 3.x state dict, and one line per kind of change made
        (for the conversion report).

    Raises:
        ValueError: when a class-specific layer's size does not fit
            ``num_classes_v1``.
    """
    upgraded: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    changes = set()
    for key, value in state_dict.items():
        new_key = key
        if key.split('.', 1)[0] in V1_ROI_HEAD_MODULES:
            new_key = 'roi_head.' + key
            changes.add('RoI heads moved under roi_head.')
        match = _DCN_OFFSET.match(new_key)
        if match:
            new_key = f'{match.group(1)}.conv_offset.{match.group(2)}'
            changes.add('deformable-conv offsets: conv2_offset -> '
                        'conv2.conv_offset')
        if _HTC_FIRST_CONV_RES.match(new_key):
            # v1 builds conv_res in every HTC mask head but the first stage
            # never receives a previous stage's feature, so it is dead
            # weight; MMDetection 3.x builds that head with_conv_res=False.
            changes.add('HTC: unused roi_head.mask_head.0.conv_res dropped')
            continue
        if _FC_REG.match(new_key) and value.size(0) != 4:
            value = _drop_background_slot(
                value, num_classes_v1, key, '4 (class-agnostic) or 4 x '
                'classes')
            changes.add('fc_reg: background slot dropped, classes shifted '
                        'by -1')
        if _MASK_LOGITS.match(new_key) and value.size(0) != 1:
            if value.size(0) != num_classes_v1:
                raise ValueError(
                    f'{key} has {value.size(0)} output channels, expected '
                    f'1 (class-agnostic) or {num_classes_v1} (mmdet v1 '
                    'classes, background included)')
            value = _drop_background_slot(value, num_classes_v1, key,
                                          f'{num_classes_v1}')
            changes.add('mask conv_logits: background channel dropped, '
                        'classes shifted by -1')
        upgraded[new_key] = value
    return upgraded, sorted(changes)
