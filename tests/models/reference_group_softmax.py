"""The per-group BAGS loss and scores as they were before the fused
implementation (one softmax per group slice), kept verbatim as the reference
that :mod:`mmdet_bags.models.losses.group_softmax` must match.

Only the test suite imports this module.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmdet_bags.grouping import GroupLayout


def group_log_softmax(cls_score: Tensor,
                      group_slices: Sequence[Tuple[int, int]]) -> List[Tensor]:
    """Log-probabilities within each group.

    Args:
        cls_score (Tensor): ``(N, C + 1 + G)`` logits.
        group_slices: ``(start, end)`` columns of each of the ``G`` groups.

    Returns:
        list[Tensor]: one contiguous ``(N, end - start)`` tensor per group,
        columns in the group's local order.
    """
    # One fused log-softmax per contiguous group: a loop over the handful of
    # groups beats padding them to one width (the largest LVIS group holds a
    # third of the classes) and needs no index tensors.
    return [
        F.log_softmax(cls_score[:, start:end], dim=1)
        for start, end in group_slices
    ]


class ReferenceGroupCrossEntropy(torch.autograd.Function):
    """Cross-entropy of every RoI in every group, with a one-pass backward.

    ``ce[n, k] = -log softmax(cls_score[n, group k])[local_targets[n, k]]``.

    Autograd through per-group slices would allocate a full-width zero
    gradient per group and add them up; this backward computes each group's
    ``(softmax - one_hot(target)) * grad_ce`` once and concatenates them.
    """

    @staticmethod
    def forward(ctx, cls_score: Tensor, local_targets: Tensor,
                group_slices: Sequence[Tuple[int, int]]) -> Tensor:
        log_probs = group_log_softmax(cls_score, group_slices)
        ctx.save_for_backward(local_targets, *log_probs)
        return -torch.cat([
            group_log_probs.gather(1, local_targets[:, group:group + 1])
            for group, group_log_probs in enumerate(log_probs)
        ], dim=1)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ce: Tensor):
        local_targets, *log_probs = ctx.saved_tensors
        grads = []
        for group, group_log_probs in enumerate(log_probs):
            grad = group_log_probs.exp()
            grad_of_group = grad_ce[:, group:group + 1]
            grad.mul_(grad_of_group)
            grad.scatter_add_(1, local_targets[:, group:group + 1],
                              -grad_of_group)
            grads.append(grad)
        return torch.cat(grads, dim=1), None, None


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


def select_rois(labels: Tensor, group_of_label: Tensor, valid: Tensor,
                others_sample_ratio: Optional[float],
                num_groups: int) -> Tensor:
    """Which RoIs each group's loss uses, with BAGS "others" sampling.

    Group 0 uses every valid RoI. Group ``k >= 1`` uses all its positives
    ``P_k`` (valid RoIs whose label is in the group) and
    ``min(floor(ratio * |P_k|), #others)`` of its "others" RoIs drawn
    uniformly without replacement, over the whole batch. A group with no
    positive uses nothing. ``ratio=None`` keeps every "others" RoI.

    Sampling draws from torch's global RNG on the logits' device, so
    MMEngine's ``randomness.seed`` makes it reproducible, and it never
    synchronises with the host.

    Args:
        labels (Tensor): ``(N,)`` labels in ``[0, C]``.
        group_of_label (Tensor): ``(C + 1,)``.
        valid (Tensor): ``(N,)`` bool, RoIs that take part at all.
        others_sample_ratio (float | None): ``beta`` in the paper.
        num_groups (int): ``G``, group 0 included.

    Returns:
        BoolTensor: ``(N, G)``.
    """
    num_rois = labels.numel()
    groups = torch.arange(num_groups, device=labels.device)
    in_group = (group_of_label[labels].unsqueeze(1) == groups) \
        & valid.unsqueeze(1)
    others = ~in_group & valid.unsqueeze(1)
    num_positives = in_group.sum(dim=0)
    if others_sample_ratio is None:
        keep_others = others & (num_positives > 0)
    else:
        # Random keys for "others", +inf for the rest; a RoI is drawn when
        # its key ranks among the group's first floor(ratio * |P_k|).
        keys = torch.rand(others.shape, device=labels.device)
        keys = keys.masked_fill(~others, 2.0)
        order = keys.argsort(dim=0)
        ranks = torch.empty_like(order).scatter_(
            0, order,
            torch.arange(num_rois, device=labels.device).unsqueeze(1).expand_as(
                order))
        num_others_to_keep = torch.floor(
            num_positives.double() * others_sample_ratio).long()
        keep_others = others & (ranks < num_others_to_keep)
    selected = in_group | keep_others
    selected[:, 0] = valid  # group 0 sees every RoI
    return selected


def reference_loss(layout: GroupLayout,
                   cls_score: Tensor,
                   labels: Tensor,
                   label_weights: Optional[Tensor] = None,
                   others_sample_ratio: Optional[float] = 8.0,
                   reduction: str = 'mean',
                   loss_weight: float = 1.0) -> Dict[str, Tensor]:
    """``GroupSoftmaxLoss.forward`` as it was, for ``layout``."""
    num_classes = layout.num_classes
    group_of_label = layout.group_of_label.to(cls_score.device)
    column_of_label = layout.column_of_label.to(cls_score.device)
    extra_columns = layout.extra_columns.to(cls_score.device)
    group_slices = tuple((layout.group_slice(k).start,
                          layout.group_slice(k).stop)
                         for k in range(layout.num_groups))
    labels = labels.long()
    # Checked on the device, without waiting for it.
    torch._assert_async(
        ((labels >= 0) & (labels <= num_classes)).all(),
        f'GroupSoftmaxLoss: labels must be in [0, {num_classes}] '
        f'({num_classes} = background)')
    # Half-precision logits are computed in float32 (no overflow in the
    # exponentials); float64 stays float64.
    dtype = torch.promote_types(cls_score.dtype, torch.float32)
    logits = cls_score.to(dtype)
    if label_weights is None:
        weights = logits.new_ones(labels.shape)
    else:
        weights = label_weights.to(dtype)

    targets = group_softmax_targets(labels, group_of_label,
                                    column_of_label,
                                    extra_columns)
    selected = select_rois(labels, group_of_label, weights > 0,
                           others_sample_ratio, layout.num_groups)
    cross_entropy = ReferenceGroupCrossEntropy.apply(
        logits, targets - extra_columns, group_slices)
    weighted = cross_entropy * (weights.unsqueeze(1) * selected)
    per_group_sum = weighted.sum(dim=0)
    per_group_mean = per_group_sum / (
        weights.unsqueeze(1) * selected).sum(dim=0).clamp(min=1.0)

    if reduction == 'mean':
        per_group = per_group_mean
        loss = per_group_mean.sum()
    elif reduction == 'sum':
        per_group = per_group_sum
        loss = per_group_sum.sum()
    else:
        per_group = per_group_mean
        loss = weighted.sum(dim=1)
    losses = dict(loss_cls=loss_weight * loss)
    for group, value in enumerate(per_group.detach()):
        losses[f'bags_group{group}_ce'] = loss_weight * value
    return losses


def reference_scores(cls_score: Tensor, group_slices: Sequence[Tuple[int, int]],
                labels_of_class_columns: Tensor) -> Tensor:
    """BAGS scores from group logits (see
    GroupSoftmaxLoss.get_activation).

    Args:
        cls_score (Tensor): ``(N, C + 1 + G)``.
        group_slices: ``(start, end)`` columns of each group, group 0 first
            (its columns: foreground, background).
        labels_of_class_columns (Tensor): ``(C,)`` the label of every class
            column, in column order (group 1's classes, then group 2's...).

    Returns:
        Tensor: ``(N, C + 1)``, background last, dtype of ``cls_score``.
    """
    logits = cls_score.to(torch.promote_types(cls_score.dtype, torch.float32))
    num_classes = labels_of_class_columns.numel()
    scores = logits.new_empty((logits.size(0), num_classes + 1))
    start, end = group_slices[0]
    group0 = F.softmax(logits[:, start:end], dim=1)
    foreground = group0[:, :1]
    scores[:, num_classes] = group0[:, 1]
    offset = 0
    for start, end in group_slices[1:]:
        probabilities = F.softmax(logits[:, start:end], dim=1)
        probabilities.mul_(foreground)
        size = end - start - 1
        scores.index_copy_(1, labels_of_class_columns[offset:offset + size],
                           probabilities[:, 1:])
        offset += size
    return scores.to(cls_score.dtype)


def reference_activation(layout: GroupLayout, cls_score: Tensor) -> Tensor:
    """``GroupSoftmaxLoss.get_activation`` as it was, for ``layout``."""
    group_slices = tuple((layout.group_slice(k).start,
                          layout.group_slice(k).stop)
                         for k in range(layout.num_groups))
    labels_of_class_columns = torch.cat([
        layout.classes_in_group(k) for k in range(1, layout.num_groups)
    ]).to(cls_score.device)
    return reference_scores(cls_score, group_slices, labels_of_class_columns)
