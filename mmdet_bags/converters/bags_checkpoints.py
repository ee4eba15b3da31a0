"""Convert released BAGS checkpoints into this package's layout.

Two sources:

* ``'original'``: the paper's code (FishYuLi/BalancedGroupSoftmax, an
  MMDetection v1.0rc0 fork, head ``GSBBoxHeadWith0``), trained on LVIS v0.5;
* ``'eqlv2'``: eqlv2's port (tztztztztz/eqlv2, MMDetection 2.3, loss
  ``GroupSoftmax``), trained on LVIS v1 (``version="v1"``) or v0.5.

The result is an MMEngine checkpoint ``{'state_dict': ..., 'meta': ...}``
that ``BAGSBBoxHead`` loads (with ``groups=None`` it takes the groups from
the ``loss_cls.instance_counts`` / ``loss_cls.bin_edges`` entries written
here) and that ``torch.load(weights_only=True)`` reads. Every classifier row
is moved, not re-fitted, so the converted head gives the source's scores
exactly (see ``tests/converters/``); what else differs between MMDetection
v1 and 3.x at test time is listed in the README.
"""
import os
import os.path as osp
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import torch

from mmdet_bags.grouping import (GroupLayout, canonical_class_name,
                                 resolve_groups)
from mmdet_bags.grouping.layout import STATE_KEYS

from .checkpoint_files import (CheckpointConversionError,
                               load_checkpoint_file, state_dict_of)
from .classifier_columns import (eqlv2_column_tags, original_column_tags,
                                 original_column_tags_from_tables,
                                 rows_for_layout)
from .mmdet_v1 import is_mmdet_v1_state_dict, upgrade_mmdet_v1_state_dict

#: Known sources and the training set each was released for.
SOURCES: Dict[str, str] = {'original': 'lvis_v0.5', 'eqlv2': 'lvis_v1'}

_CLASSIFIER = re.compile(r'^(roi_head\.bbox_head\.(?:\d+\.)?)fc_cls\.weight$')
_V1_CLASSIFIER = re.compile(r'^(bbox_head\.(?:\d+\.)?)fc_cls\.weight$')
_FC_REG = re.compile(r'^roi_head\.bbox_head\.(?:\d+\.)?fc_reg\.weight$')
_MASK_LOGITS = re.compile(
    r'^roi_head\.mask_head\.(?:\d+\.)?conv_logits\.weight$')


@dataclass
class ConvertedCheckpoint:
    """A converted checkpoint and what was done to it.

    Attributes:
        checkpoint: ``{'state_dict': OrderedDict, 'meta': dict}``.
        layout: the groups written into every BAGS head.
        changes: one line per kind of change, for the report.
    """
    checkpoint: dict
    layout: GroupLayout
    changes: List[str] = field(default_factory=list)


# ------------------------------------------------------------------ reading
def read_original_tables(label2binlabel_file: str,
                         pred_slice_file: str) -> List[tuple]:
    """Row tags from the original's ``label2binlabel.pt`` and
    ``pred_slice_with0.pt`` (tensors, read with ``weights_only=True``)."""
    tables = []
    for path in (label2binlabel_file, pred_slice_file):
        table = load_checkpoint_file(path)
        if not isinstance(table, torch.Tensor):
            raise CheckpointConversionError(
                f'{path}: expected an integer tensor (the original code '
                f'saves one with torch.save), got {type(table).__name__}')
        tables.append(table)
    try:
        return original_column_tags_from_tables(
            *tables, what=f'{label2binlabel_file} + {pred_slice_file}')
    except ValueError as error:
        raise CheckpointConversionError(str(error)) from None


# ----------------------------------------------------------------- checking
def _check_source_keys(state_dict: Dict[str, torch.Tensor], source: str,
                       path: str) -> None:
    ours = sorted(key for key in state_dict
                  if key.endswith('loss_cls.' + STATE_KEYS[0]))
    if ours:
        raise CheckpointConversionError(
            f'{path} is already in the mmdet-bags layout (it has {ours[0]}); '
            'load it as it is, there is nothing to convert')
    is_v1 = is_mmdet_v1_state_dict(state_dict)
    if source == 'original' and not is_v1:
        hint = (' It has MMDetection 2.x/3.x keys (roi_head.*): for an '
                'eqlv2 checkpoint use --source eqlv2.' if any(
                    key.startswith('roi_head.') for key in state_dict) else '')
        raise CheckpointConversionError(
            f'{path} is not an MMDetection v1 two-stage checkpoint as the '
            'original BAGS code writes (expected top-level bbox_head.* next '
            f'to rpn_head.*).{hint}')
    if source == 'eqlv2' and is_v1:
        raise CheckpointConversionError(
            f'{path} has MMDetection v1 keys (top-level bbox_head.*), not '
            "eqlv2's MMDetection 2.x keys (roi_head.bbox_head.*): for the "
            'original code\'s checkpoint use --source original.')


def _classifier_prefixes(state_dict: Dict[str, torch.Tensor], path: str,
                         pattern=_CLASSIFIER) -> List[str]:
    prefixes = [match.group(1) for match in map(pattern.match, state_dict)
                if match]
    if not prefixes:
        raise CheckpointConversionError(
            f'{path} has no RoI bbox-head classifier '
            '(bbox_head[.<stage>].fc_cls.weight): not a two-stage detector '
            'checkpoint')
    return prefixes


def _check_classifier(state_dict: Dict[str, torch.Tensor], prefix: str,
                      expected_rows: int, layout: GroupLayout,
                      source_name: str, path: str) -> None:
    weight = state_dict[prefix + 'fc_cls.weight']
    bias = state_dict.get(prefix + 'fc_cls.bias')
    rows = weight.size(0) if weight.dim() == 2 else None
    if rows == layout.num_classes + 1:
        raise CheckpointConversionError(
            f'{path}: {prefix}fc_cls has {rows} rows = {layout.num_classes} '
            'classes + background, an ordinary softmax classifier, not a '
            'BAGS one. Upgrade it as a plain detector (MMDetection\'s '
            'tools/model_converters/upgrade_model_version.py) and load it '
            'into BAGSBBoxHead as the first stage of the decoupled recipe.')
    if rows != expected_rows or bias is None or \
            tuple(bias.shape) != (expected_rows, ):
        raise CheckpointConversionError(
            f'{path}: {prefix}fc_cls has shape {tuple(weight.shape)} (bias '
            f'{None if bias is None else tuple(bias.shape)}); {source_name} '
            f'with {layout.describe()} has {expected_rows} rows. Wrong class '
            'count or bin edges? Pass the groups (--groups) and --bin-edges '
            'the checkpoint was trained with.')


def _check_class_specific(state_dict: Dict[str, torch.Tensor],
                          num_classes: int, path: str) -> None:
    for key, value in state_dict.items():
        if _FC_REG.match(key) and value.size(0) not in (4, 4 * num_classes):
            raise CheckpointConversionError(
                f'{path}: {key} has {value.size(0)} rows; expected 4 '
                f'(class-agnostic) or 4 x {num_classes} classes')
        if _MASK_LOGITS.match(key) and value.size(0) not in (1, num_classes):
            raise CheckpointConversionError(
                f'{path}: {key} has {value.size(0)} channels; expected 1 '
                f'(class-agnostic) or {num_classes} classes')


def _check_source_classes(checkpoint, class_names: Optional[Sequence[str]],
                          num_classes: int, path: str) -> None:
    """Compare the class names MMCV's runners store in ``meta['CLASSES']``
    (both sources write them) with the groups' classes, label by label."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    classes = meta.get('CLASSES') if isinstance(meta, dict) else None
    if not isinstance(classes, (list, tuple)) or not all(
            isinstance(name, str) for name in classes):
        return
    if len(classes) != num_classes:
        raise CheckpointConversionError(
            f'{path} was trained on {len(classes)} classes (meta CLASSES) '
            f'but the groups describe {num_classes}; pass the groups of its '
            'training set (--groups)')
    if class_names is None:
        return
    moved = [(label, theirs, ours)
             for label, (theirs, ours) in enumerate(zip(classes, class_names))
             if canonical_class_name(theirs) != canonical_class_name(ours)]
    if moved:
        shown = ', '.join(f'label {label}: {theirs!r} vs {ours!r}'
                          for label, theirs, ours in moved[:3])
        raise CheckpointConversionError(
            f'{path}: {len(moved)} classes of its meta CLASSES are not the '
            f'groups\' classes in the same order ({shown}); pass the groups '
            'of its training set (--groups)')


# --------------------------------------------------------------- converting
def _reorder_classifiers(state_dict: Dict[str, torch.Tensor],
                         prefixes: Sequence[str], rows: torch.Tensor,
                         layout: GroupLayout) -> 'OrderedDict':
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    buffers = layout.state_tensors()
    classifier_keys = {prefix + 'fc_cls.' + name: prefix
                       for prefix in prefixes for name in ('weight', 'bias')}
    for key, value in state_dict.items():
        if key not in classifier_keys:
            converted[key] = value
            continue
        converted[key] = value.index_select(0, rows).clone()
        if key.endswith('bias'):  # the groups follow the classifier
            for name in STATE_KEYS:
                converted[classifier_keys[key] + 'loss_cls.' + name] = \
                    buffers[name].clone()
    return converted


def _meta(source: str, path: str, checkpoint, layout: GroupLayout,
          class_names: Optional[Sequence[str]], changes: List[str]) -> dict:
    source_meta = checkpoint.get('meta') if isinstance(checkpoint,
                                                       dict) else None
    source_version = source_meta.get('mmdet_version') if isinstance(
        source_meta, dict) else None
    meta = dict(mmdet_bags_conversion=dict(
        source=source,
        source_file=osp.basename(path),
        source_mmdet_version=str(source_version)
        if source_version is not None else None,
        groups=layout.describe(),
        changes=list(changes)))
    if class_names is not None:
        meta['dataset_meta'] = dict(classes=tuple(class_names))
    return meta


def convert_bags_checkpoint(checkpoint,
                            source: str,
                            groups: Union[str, dict, None] = None,
                            bin_edges: Optional[Sequence[int]] = None,
                            original_tags: Optional[List[tuple]] = None,
                            path: str = 'the checkpoint'
                            ) -> ConvertedCheckpoint:
    """Convert a loaded BAGS checkpoint of ``source`` into our layout.

    Args:
        checkpoint: what ``torch.load`` returned.
        source (str): ``'original'`` or ``'eqlv2'``.
        groups: the training set's groups as our heads take them
            (``'lvis_v0.5'``, ``'lvis_v1'``, ``dict(ann_file=...)``...);
            defaults to the set the source was released for
            (:data:`SOURCES`).
        bin_edges: the edges it was trained with, default (10, 100, 1000).
        original_tags: for ``'original'``, row tags read from its
            ``label2binlabel.pt`` / ``pred_slice_with0.pt``
            (:func:`read_original_tables`); default: rebuilt from the
            counts as its ``tools/lvis_analyse.py`` does.
        path (str): names the file in errors and in the meta.

    Raises:
        CheckpointConversionError: naming ``path`` and what was expected.
    """
    if source not in SOURCES:
        raise CheckpointConversionError(
            f'{path}: unknown source layout {source!r}; known: '
            f'{", ".join(SOURCES)}')
    if original_tags is not None and source != 'original':
        raise CheckpointConversionError(
            f'{path}: label2binlabel/pred_slice tables describe the original '
            f'code\'s layout, not {source!r}')
    state_dict = state_dict_of(checkpoint, path)
    _check_source_keys(state_dict, source, path)
    try:
        resolved = resolve_groups(SOURCES[source] if groups is None else
                                  groups, bin_edges)
    except ValueError as error:
        raise CheckpointConversionError(f'{path}: {error}') from None
    layout = resolved.layout
    _check_source_classes(checkpoint, resolved.class_names,
                          layout.num_classes, path)
    counts, edges = layout.instance_counts, layout.bin_edges
    changes: List[str] = []
    if source == 'original':
        tags = original_tags or original_column_tags(counts, edges)
        source_name = ('the original code (mmdet v1, group 0 = [bg, fg] '
                       'first)')
        # Checked on the v1 keys, so errors name what is in the file.
        for prefix in _classifier_prefixes(state_dict, path, _V1_CLASSIFIER):
            _check_classifier(state_dict, prefix, len(tags), layout,
                              source_name, path)
        try:
            state_dict, changes = upgrade_mmdet_v1_state_dict(
                state_dict, layout.num_classes + 1)
        except ValueError as error:
            raise CheckpointConversionError(f'{path}: {error}') from None
        prefixes = _classifier_prefixes(state_dict, path)
    else:
        tags = eqlv2_column_tags(counts, edges)
        source_name = 'eqlv2 (mmdet 2.x, background group [fg, bg] last)'
        prefixes = _classifier_prefixes(state_dict, path)
        for prefix in prefixes:
            _check_classifier(state_dict, prefix, len(tags), layout,
                              source_name, path)
    _check_class_specific(state_dict, layout.num_classes, path)
    try:
        rows = rows_for_layout(tags, layout, f'{path} ({source_name})')
    except ValueError as error:
        raise CheckpointConversionError(str(error)) from None
    state_dict = _reorder_classifiers(state_dict, prefixes, rows, layout)
    changes = changes + [
        f'fc_cls of {", ".join(p.rstrip(".") for p in prefixes)}: rows '
        f'reordered from {source_name} to ours [fg, bg | others_k, classes '
        'of group k ...], loss_cls.instance_counts/bin_edges added']
    meta = _meta(source, path, checkpoint, layout, resolved.class_names,
                 changes)
    return ConvertedCheckpoint(dict(state_dict=state_dict, meta=meta), layout,
                               changes)


def convert_checkpoint_file(in_file: str,
                            out_file: str,
                            source: str,
                            groups: Union[str, dict, None] = None,
                            bin_edges: Optional[Sequence[int]] = None,
                            label2binlabel_file: Optional[str] = None,
                            pred_slice_file: Optional[str] = None,
                            trust_pickle: bool = False,
                            overwrite: bool = False) -> ConvertedCheckpoint:
    """Read ``in_file``, convert it (:func:`convert_bags_checkpoint`) and
    write ``out_file``. ``in_file`` is only read.

    Raises:
        CheckpointConversionError: bad input, or ``out_file`` is
            ``in_file`` or exists (without ``overwrite``).
    """
    if (label2binlabel_file is None) != (pred_slice_file is None):
        raise CheckpointConversionError(
            f'{in_file}: give both the original\'s label2binlabel.pt and '
            'pred_slice_with0.pt, or neither')
    if osp.exists(out_file):
        if osp.exists(in_file) and osp.samefile(in_file, out_file):
            raise CheckpointConversionError(
                f'{out_file}: the output would overwrite the input '
                'checkpoint; choose another output file')
        if not overwrite:
            raise CheckpointConversionError(
                f'{out_file} exists; pass --overwrite to replace it')
    original_tags = None
    if label2binlabel_file is not None:
        original_tags = read_original_tables(label2binlabel_file,
                                             pred_slice_file)
    checkpoint = load_checkpoint_file(in_file, trust_pickle)
    converted = convert_bags_checkpoint(checkpoint, source, groups, bin_edges,
                                        original_tags, in_file)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    # Written beside the target and renamed: no half-written checkpoint.
    handle, temporary = tempfile.mkstemp(dir=out_dir, suffix='.pth.tmp')
    os.close(handle)
    try:
        torch.save(converted.checkpoint, temporary)
        os.replace(temporary, out_file)
    finally:
        if osp.exists(temporary):
            os.remove(temporary)
    return converted
