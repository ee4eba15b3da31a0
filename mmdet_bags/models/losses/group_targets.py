"""BAGS training targets and "others" sampling, per group.

Every RoI has one target column in every group (:func:`group_softmax_targets`)
and each group's loss uses its positives plus a sample of "others"
(:func:`select_rois`), as in the paper and its official code.
"""
from typing import Optional

import torch
from torch import Tensor

from . import cpu_kernel


def group_softmax_targets(labels: Tensor, group_of_label: Tensor,
                          column_of_label: Tensor,
                          extra_columns: Tensor) -> Tensor:
    """The target column of every RoI in every group.

    Group 0: background column for background RoIs, else "foreground".
    Group ``k >= 1``: the class column if the label is in group ``k``, else
    the group's "others" column.

    Args:
        labels (Tensor): ``(N,)`` labels in ``[0, C]``, ``C`` = background.
        group_of_label (Tensor): ``(C + 1,)`` group of each label (bg -> 0).
        column_of_label (Tensor): ``(C + 1,)`` logit column of each label.
        extra_columns (Tensor): ``(G,)`` "foreground"/"others" columns.

    Returns:
        LongTensor: ``(N, G)`` logit columns.
    """
    num_groups = extra_columns.numel()
    in_group = group_of_label[labels].unsqueeze(1) == torch.arange(
        num_groups, device=labels.device)
    return torch.where(in_group, column_of_label[labels].unsqueeze(1),
                       extra_columns.unsqueeze(0))


def group_membership(group_of_label: Tensor, num_groups: int) -> Tensor:
    """``(C + 1, G)`` bool: label in group, with every label in group 0
    (the background group decides background vs. foreground for all)."""
    groups = torch.arange(num_groups, device=group_of_label.device)
    return (group_of_label.unsqueeze(1) == groups) | (groups == 0)


def select_rois(labels: Tensor,
                group_of_label: Tensor,
                valid: Tensor,
                others_sample_ratio: Optional[float],
                num_groups: int,
                membership: Optional[Tensor] = None) -> Tensor:
    """Which RoIs each group's loss uses, with BAGS "others" sampling.

    Group 0 uses every valid RoI. Group ``k >= 1`` uses all its positives
    ``P_k`` (valid RoIs whose label is in the group) and
    ``min(floor(ratio * |P_k|), #others)`` of its "others" RoIs drawn
    uniformly without replacement, over the whole batch. A group with no
    positive uses nothing. ``ratio=None`` keeps every "others" RoI.

    Sampling draws from torch's global RNG on the logits' device, so
    MMEngine's ``randomness.seed`` makes it reproducible, and it never
    synchronises with the host: one uniform key per RoI and group, and a
    group keeps the "others" with the smallest keys (ranked by a sort; on
    the CPU the fused kernel finds the same keys by partial selection, so
    the same draws select the same RoIs).

    Args:
        labels (Tensor): ``(N,)`` labels in ``[0, C]``.
        group_of_label (Tensor): ``(C + 1,)``.
        valid (Tensor): ``(N,)`` bool, RoIs that take part at all.
        others_sample_ratio (float | None): ``beta`` in the paper.
        num_groups (int): ``G``, group 0 included.
        membership (Tensor, optional): :func:`group_membership` of
            ``group_of_label``, if already at hand.

    Returns:
        BoolTensor: ``(N, G)``.

    Raises:
        RuntimeError: on the CPU, a label outside ``[0, C]`` (on other
            devices the caller checks, without a host sync).
    """
    kernel = cpu_kernel.library_for(labels, float32_only=False)
    if kernel is not None:
        return _select_rois_in_kernel(kernel, labels, group_of_label, valid,
                                      others_sample_ratio, num_groups)
    if membership is None:
        membership = group_membership(group_of_label, num_groups)
    valid = valid.unsqueeze(1)
    positives = membership[labels] & valid  # group 0: every valid RoI
    others = positives ^ valid  # valid and not in the group
    if others_sample_ratio is None:
        keep_others = others & positives.any(dim=0)
    else:
        # Random keys for "others", 2 (after every key) for the rest; the
        # r-th key (from 1) of a group is drawn if r <= ratio * |P_k|, i.e.
        # r <= floor(ratio * |P_k|).
        keys = torch.rand(others.shape, device=labels.device).masked_fill_(
            ~others, 2.0)
        order = keys.argsort(dim=0)
        ranks = torch.empty_like(order).scatter_(
            0, order,
            torch.arange(1, labels.numel() + 1,
                         device=labels.device).unsqueeze(1).expand_as(order))
        keep_others = others & (
            ranks <= positives.sum(dim=0).double() * others_sample_ratio)
    return positives | keep_others


def _select_rois_in_kernel(kernel, labels: Tensor, group_of_label: Tensor,
                           valid: Tensor,
                           others_sample_ratio: Optional[float],
                           num_groups: int) -> Tensor:
    """:func:`select_rois` in the CPU kernel: the same draws from the same
    RNG (one uniform key per RoI and group), the same RoIs selected; a
    partial selection per group instead of a sort of the whole batch."""
    num_rois = labels.numel()
    labels = labels.to(torch.long).contiguous()
    group_of_label = group_of_label.to(torch.long).contiguous()
    valid = valid.to(torch.bool).contiguous()
    if valid.shape != labels.shape:
        raise ValueError(f'valid has shape {tuple(valid.shape)}, labels '
                         f'{tuple(labels.shape)}')
    keys = None
    if others_sample_ratio is not None:
        keys = torch.rand((num_rois, num_groups), device=labels.device)
    selected = torch.empty((num_rois, num_groups), dtype=torch.bool)
    max_label = group_of_label.numel() - 1
    bad = kernel.bags_select_rois(
        labels.data_ptr(), valid.data_ptr(), num_rois,
        group_of_label.data_ptr(), max_label, num_groups,
        -1.0 if others_sample_ratio is None else float(others_sample_ratio),
        None if keys is None else keys.data_ptr(), selected.data_ptr())
    if bad >= 0:
        raise RuntimeError(
            f'GroupSoftmaxLoss: labels must be in [0, {max_label}] '
            f'({max_label} = background); RoI {bad} has label '
            f'{int(labels[bad])}')
    if bad == -2:
        raise MemoryError('bags_select_rois could not allocate its buffer')
    assert bad == -1, f'bags_select_rois returned {bad}'  # -3: keys given
    return selected
