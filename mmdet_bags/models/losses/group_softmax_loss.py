"""Balanced Group Softmax (BAGS) classification loss.

Li et al., "Overcoming Classifier Imbalance for Long-tail Object Detection
with Balanced Group Softmax", CVPR 2020.

The classifier has ``C + 1 + G`` logits laid out by
:class:`~mmdet_bags.grouping.GroupLayout`. Each group gets its own softmax:
group 0 decides background vs. foreground, group ``k >= 1`` decides between
its own classes and "others". Training targets, "others" sampling and the
test-time score follow the paper and its official code; see
``docs/method.md`` for the differences we chose on purpose.
"""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.losses import accuracy
from mmdet.registry import MODELS
from torch import Tensor

from mmdet_bags.grouping import GroupLayout, resolve_groups
from mmdet_bags.grouping.layout import STATE_KEYS
from . import cpu_kernel
from .group_softmax import (GroupColumns, group_cross_entropy,
                            group_softmax_scores)
from .group_targets import (group_membership, group_softmax_targets,
                            select_rois)


@MODELS.register_module()
class GroupSoftmaxLoss(nn.Module):
    """Balanced Group Softmax loss for a ``(C + 1 + G)``-wide classifier.

    For every sampled RoI with label ``y`` (``y == C`` is background), group
    0's target is background or "foreground", and each group ``k >= 1``'s
    target is ``y``'s column if ``y`` is in group ``k``, else "others".
    Per group, a softmax cross-entropy is averaged over the RoIs the group
    selects (all positives plus ``floor(others_sample_ratio * #positives)``
    sampled "others" RoIs, see :func:`select_rois`); a group without positives
    contributes exactly zero. The classification loss is the plain sum of the
    per-group losses, times ``loss_weight``.

    It plugs into MMDetection's ``BBoxHead`` through the head's custom-loss
    hooks: the classifier width comes from :meth:`get_cls_channels`, test
    scores from :meth:`get_activation`, logged accuracies from
    :meth:`get_accuracy`. So replacing ``loss_cls`` in any ``BBoxHead``
    config is enough to train BAGS.

    The group layout is stored in persistent buffers (``instance_counts``,
    ``bin_edges``), so checkpoints carry their groups; loading a state dict
    whose groups differ from this loss's raises an error naming both.

    Args:
        num_classes (int): ``C``, number of foreground classes. Must match the
            groups.
        groups (str | dict | GroupLayout | None): ``'lvis_v1'``,
            ``'lvis_v0.5'``, ``dict(ann_file=..., bin_edges=...)`` or
            ``dict(instance_counts=[...], bin_edges=...)``; see
            :func:`~mmdet_bags.grouping.build_group_layout`. Required for
            training. ``None`` defers them, with their bin edges, to the
            checkpoint that will be loaded (inference with
            :class:`BAGSBBoxHead`).
        bin_edges (Sequence[int], optional): instance-count bin edges when
            ``groups`` does not give them. Defaults to ``(10, 100, 1000)``;
            ignored with ``groups=None``.
        others_sample_ratio (float | None): ``beta``, how many "others" RoIs
            a group keeps per positive RoI. Defaults to 8.0 (the paper).
            ``None`` keeps every "others" RoI (the paper's "all" ablation).
        use_sigmoid (bool): must be False (accepted because MMDetection's
            base configs merge ``use_sigmoid=False`` into ``loss_cls``).
        reduction (str): ``'mean'`` (the paper: per-group means, summed),
            ``'sum'`` (per-group sums, summed) or ``'none'`` (``(N,)``,
            each RoI's weighted cross-entropy summed over the groups that
            selected it).
        loss_weight (float): multiplies the loss. Defaults to 1.0.
    """

    def __init__(self,
                 num_classes: int,
                 groups: Union[str, dict, GroupLayout, None] = None,
                 bin_edges: Optional[Sequence[int]] = None,
                 others_sample_ratio: Optional[float] = 8.0,
                 use_sigmoid: bool = False,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if use_sigmoid:
            raise ValueError(
                'GroupSoftmaxLoss is a softmax loss: use_sigmoid=True is not '
                'supported (remove it or set use_sigmoid=False)')
        if others_sample_ratio is not None:
            if isinstance(others_sample_ratio, bool) or not isinstance(
                    others_sample_ratio, (int, float)) or not math.isfinite(
                        others_sample_ratio) or others_sample_ratio < 0:
                raise ValueError(
                    'others_sample_ratio must be a finite number >= 0 (the '
                    "paper's beta, e.g. 8.0) or None to keep every 'others' "
                    f'RoI; got {others_sample_ratio!r}')
            others_sample_ratio = float(others_sample_ratio)
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError("reduction must be 'none', 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.use_sigmoid = False
        self.others_sample_ratio = others_sample_ratio
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.custom_cls_channels = True
        self.custom_activation = True
        self.custom_accuracy = True

        self.num_classes = num_classes
        self.layout: Optional[GroupLayout] = None
        # The class name of every label when the groups source names them
        # (checked against the dataset by CheckGroupClassesHook).
        self.group_class_names: Optional[Tuple[str, ...]] = None
        self.group_names_in_file_order = False
        self.groups_source = 'a checkpoint'
        if groups is None:
            # Deferred: the groups (and their bin edges; a bin_edges argument
            # is ignored) come from a BAGS checkpoint's buffers, at test time
            # through BAGSBBoxHead.
            for name in STATE_KEYS:
                self.register_buffer(name, torch.zeros(0, dtype=torch.long))
        else:
            resolved = resolve_groups(groups, bin_edges)
            self.set_layout(resolved.layout, source=repr(groups))
            self.group_class_names = resolved.class_names
            self.group_names_in_file_order = resolved.names_in_file_order
            self.groups_source = resolved.source
        self._register_load_state_dict_pre_hook(self._check_loaded_layout)

    def set_layout(self, layout: GroupLayout, source: str = 'a checkpoint'
                   ) -> None:
        """Install the group layout: persistent buffers that carry it in
        checkpoints, and the derived index tensors (not saved)."""
        if self.num_classes != layout.num_classes:
            raise ValueError(
                f'GroupSoftmaxLoss got num_classes={self.num_classes} but its '
                f'groups ({source}) describe {layout.num_classes} classes; '
                'set the head num_classes and the groups to the same dataset')
        device = self.instance_counts.device if hasattr(
            self, 'instance_counts') else None
        self.layout = layout
        for name, tensor in layout.state_tensors().items():
            self.register_buffer(name, tensor.to(device))
        all_labels = torch.arange(layout.num_classes + 1)
        derived = dict(
            group_of_label=layout.group_of_label,
            column_of_label=layout.column_of_label,
            extra_columns=layout.extra_columns,
            # (C + 1, G): every label's target column in every group.
            target_columns_of_label=group_softmax_targets(
                all_labels, layout.group_of_label, layout.column_of_label,
                layout.extra_columns),
            membership_of_label=group_membership(layout.group_of_label,
                                                 layout.num_groups))
        for name, tensor in derived.items():
            self.register_buffer(name, tensor.to(device), persistent=False)
        # The index tensors of the fused group softmax; scores come out in
        # label order, background last.
        self.group_columns = GroupColumns(
            [(layout.group_slice(k).start, layout.group_slice(k).stop)
             for k in range(layout.num_groups)],
            column_of_label=layout.column_of_label).to(device)

    def _require_layout(self) -> GroupLayout:
        if self.layout is None:
            raise RuntimeError(
                'GroupSoftmaxLoss has no groups: set groups= in the config '
                "(e.g. 'lvis_v1' or dict(ann_file=...)) or load a checkpoint "
                'trained with BAGS (BAGSBBoxHead then takes the groups from '
                'it)')
        return self.layout

    # ------------------------------------------------------------ BBoxHead
    def get_cls_channels(self, num_classes: int) -> int:
        """Classifier width, ``C + 1 + G``.

        With deferred groups this is a placeholder (``C + 2``) until a
        checkpoint provides the groups; :class:`BAGSBBoxHead` then resizes
        its classifier.
        """
        if num_classes != self.num_classes:
            raise ValueError(
                f'the bbox head has num_classes={num_classes} but its '
                f'GroupSoftmaxLoss has num_classes={self.num_classes}')
        if self.layout is None:
            return num_classes + 2
        return self.layout.num_logits

    def get_activation(self, cls_score: Tensor) -> Tensor:
        """BAGS test-time scores.

        ``score(c) = p0[foreground] * p_k[c]`` for class ``c`` of group
        ``k``; ``score(background) = p0[background]``. "Others" entries are
        dropped and rows are not renormalised.

        Args:
            cls_score (Tensor): ``(N, C + 1 + G)`` logits.

        Returns:
            Tensor: ``(N, C + 1)`` scores in label order, background last,
            in ``cls_score``'s dtype (computed in float32 or better),
            detached from the autograd graph.
        """
        layout = self._require_layout()
        # Scores rank detections and feed logged accuracies; they are not
        # differentiated (the fused kernels write in place).
        dtype = cls_score.dtype
        logits = cls_score.detach()
        if dtype not in (torch.float32, torch.float64):
            logits = logits.float()
        scores = group_softmax_scores(logits, self.group_columns,
                                      layout.foreground_column)
        return scores if scores.dtype == dtype else scores.to(dtype)

    def get_accuracy(self, cls_score: Tensor,
                     labels: Tensor) -> Dict[str, Tensor]:
        """Accuracies logged by ``BBoxHead.loss``.

        Returns:
            dict: ``acc_objectness``: group 0's foreground/background
            decision over all RoIs; ``acc_classes``: fine-class accuracy of
            the BAGS scores over foreground RoIs (in percent, as
            MMDetection's ``accuracy``).
        """
        layout = self._require_layout()
        foreground = labels < self.num_classes
        group0 = cls_score[:, layout.group_slice(0)]
        acc_objectness = accuracy(group0, (~foreground).long())
        scores = self.get_activation(cls_score[foreground])
        acc_classes = accuracy(scores[:, :self.num_classes],
                               labels[foreground])
        return dict(acc_objectness=acc_objectness, acc_classes=acc_classes)

    # ---------------------------------------------------------------- loss
    def forward(self,
                cls_score: Tensor,
                labels: Tensor,
                label_weights: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Dict[str, Tensor]:
        """Compute the BAGS classification loss.

        Args:
            cls_score (Tensor): ``(N, C + 1 + G)`` logits (any float dtype;
                half precision is computed in float32).
            labels (Tensor): ``(N,)`` labels in ``[0, C]``, ``C`` is
                background.
            label_weights (Tensor, optional): ``(N,)`` per-RoI weights. A RoI
                with weight 0 is ignored entirely (it is neither a positive
                nor an "others" candidate); other weights scale the RoI's
                cross-entropy in every group and the per-group normaliser is
                ``max(sum of selected weights, 1)``. MMDetection's heads pass
                1 for every sampled RoI.
            avg_factor (float, optional): ignored: every group is normalised
                by its own selected RoIs, as in the paper (a global factor
                would re-weight the groups).
            reduction_override (str, optional): overrides ``reduction``.

        Returns:
            dict: ``loss_cls`` (the loss) and ``bags_group{k}_ce`` for every
            group, detached and scaled like the loss, for logging (their names
            hold no "loss", so MMEngine does not add them again).
        """
        layout = self._require_layout()
        reduction = reduction_override or self.reduction
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError("reduction must be 'none', 'mean' or 'sum', got "
                             f'{reduction!r}')
        if cls_score.dim() != 2 or cls_score.size(1) != layout.num_logits:
            raise ValueError(
                f'GroupSoftmaxLoss expects logits of shape (N, '
                f'{layout.num_logits}) for {layout.describe()}; got '
                f'{tuple(cls_score.shape)}')
        labels = labels.long()
        if cpu_kernel.library_for(labels, float32_only=False) is None:
            # Checked on the device, without waiting for it (the CPU kernel
            # checks them in select_rois).
            torch._assert_async(
                ((labels >= 0) & (labels <= self.num_classes)).all(),
                f'GroupSoftmaxLoss: labels must be in [0, {self.num_classes}]'
                f' ({self.num_classes} = background)')
        # Half-precision logits are computed in float32 (no overflow in the
        # exponentials); float64 stays float64.
        dtype = torch.promote_types(cls_score.dtype, torch.float32)
        logits = cls_score.to(dtype)
        if label_weights is None:
            weights = None
            valid = labels.new_ones(labels.shape, dtype=torch.bool)
        else:
            weights = label_weights.to(dtype)
            valid = weights > 0

        selected = select_rois(labels, self.group_of_label, valid,
                               self.others_sample_ratio, layout.num_groups,
                               self.membership_of_label)
        # (N, G): weight of each RoI in each group's loss, 0 if unselected.
        coefficients = selected.to(dtype) if weights is None else \
            selected * weights.unsqueeze(1)
        cross_entropy = group_cross_entropy(
            logits, self.target_columns_of_label[labels], self.group_columns)
        weighted = cross_entropy * coefficients
        per_group_sum = weighted.sum(dim=0)
        per_group_mean = per_group_sum / coefficients.sum(dim=0).clamp(
            min=1.0)

        if reduction == 'mean':
            per_group = per_group_mean
            loss = per_group_mean.sum()
        elif reduction == 'sum':
            per_group = per_group_sum
            loss = per_group_sum.sum()
        else:
            per_group = per_group_mean
            loss = weighted.sum(dim=1)
        losses = dict(loss_cls=self.loss_weight * loss)
        logged = (self.loss_weight * per_group.detach()).unbind()
        for group, value in enumerate(logged):
            losses[f'bags_group{group}_ce'] = value
        return losses

    # ---------------------------------------------------------- checkpoints
    def _check_loaded_layout(self, state_dict, prefix, local_metadata, strict,
                             missing_keys, unexpected_keys, error_msgs):
        keys = [prefix + name for name in STATE_KEYS]
        if not all(key in state_dict for key in keys):
            return  # e.g. an ordinary (non-BAGS) checkpoint: nothing to check
        try:
            loaded = GroupLayout.from_state_tensors(
                {name: state_dict[prefix + name] for name in STATE_KEYS})
        except ValueError as error:
            raise RuntimeError(
                f'the checkpoint holds invalid BAGS groups at '
                f'{prefix}: {error}') from None
        if self.layout is None:
            self.set_layout(loaded, source=f'the checkpoint ({prefix}*)')
            return
        difference = loaded.difference(self.layout)
        if difference is not None:
            raise RuntimeError(
                f'the checkpoint was trained with different BAGS groups than '
                f'this model ({difference}).\n'
                f'  checkpoint ({prefix}*): {loaded.describe()}\n'
                f'  model (config):        {self.layout.describe()}\n'
                'Build the model with the groups the checkpoint was trained '
                'with.')

    def extra_repr(self) -> str:
        groups = ('groups from checkpoint (not loaded yet)'
                  if self.layout is None else self.layout.describe())
        return (f'{groups}, others_sample_ratio='
                f'{self.others_sample_ratio}, loss_weight={self.loss_weight}')

