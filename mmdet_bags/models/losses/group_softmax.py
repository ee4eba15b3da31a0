"""Softmax within contiguous column groups, in a few full-width passes.

The BAGS logits hold ``G`` groups of contiguous columns (see
:class:`~mmdet_bags.grouping.GroupLayout`), each with its own softmax. A
softmax per group slice costs a kernel and a copy per group, and the test
scores then need a scatter per group. Here every pass is one operation over
all groups, whatever ``G``.

The logits are gathered once into a **padded** row in which every group
starts at a block boundary: group ``k`` gets ``ceil(w_k / b)`` blocks of
``b`` columns, its unused places are ``-inf``. No block then holds two
groups, so

1. ``d``: the maximum of every block, a ``(N, B, b)`` reduction; each
   group's maximum ``c_k`` is the maximum of its blocks' (a narrow
   ``(N, G, K)`` problem, ``K`` the most blocks a group has);
2. ``e = exp(z - c_k)``: one broadcast subtraction (``c_k`` per block) and
   one ``exp``, in place in the padded row; padding gives 0;
3. ``S_k``: block sums of ``e``, added per group (again ``(N, G, K)``);
4. ``p_j = e_j / S_k``: the backward pass and the scores are one broadcast
   multiply per block, then one gather back to the columns (or to label
   order for the scores).

Every exponent is relative to its own group's maximum, so a group whose
logits all sit far below the row's maximum stays exact, and ``c`` is kept
apart from ``log S``, so logits of magnitude ``1e4`` keep the digits of
their softmax. A NaN logit makes its own group's terms NaN and no other
group's (no block mixes groups).

On the CPU, float32 logits go to a fused C kernel instead
(``group_softmax_cpu.c``, see :mod:`.cpu_kernel`): one pass per row and
group for the maximum and one for the sum of exponentials, the same
exponent relative to the group's maximum, and the gradient recomputed from
the logits in one pass (nothing of size ``(N, W)`` saved). The tensor
passes above serve every other device and dtype, and whenever the kernel
cannot be built; the tests hold the two to float32 rounding of each other.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.autograd.function import once_differentiable

from . import cpu_kernel

#: Columns per block: wide enough for vectorised reductions over a block,
#: narrow enough that padding every group to whole blocks stays cheap
#: (LVIS v1: 1209 columns in 1312 padded places).
DEFAULT_BLOCK_SIZE = 32


class GroupColumns(nn.Module):
    """The padded block layout of ``W`` columns in ``G`` contiguous groups:
    the index tensors of the fused group softmax.

    Holds only non-persistent buffers, so it follows its owner's device and
    never enters a state dict.

    Args:
        group_slices: ``(start, end)`` of each group; they must tile
            ``[0, W)`` in order.
        column_of_label (Tensor, optional): ``(L,)`` the column of each
            output of :func:`group_softmax_scores`, in output order.
        block_size (int): columns per block.

    Attributes:
        num_columns (int): ``W``. num_groups (int): ``G``.
        block_size (int): ``b``. num_blocks (int): ``B``, blocks of the
            padded row (``padded_width = B * b``).
        blocks_per_group (int): ``K``, the most blocks of one group.
        source_columns (LongTensor): ``(B * b,)`` the column each padded
            place is gathered from (padding: any column of its group, then
            set to ``-inf``); ``padding`` ``(B * b - W,)`` those places.
        padded_position (LongTensor): ``(W,)`` the padded place of every
            column; ``label_positions`` ``(L,)`` that of every output of
            the scores, if ``column_of_label`` is given.
        group_of_block (LongTensor): ``(B,)``.
        block_slots (LongTensor): ``(G * K,)`` each group's blocks; a group
            with fewer than ``K`` fills its slots with ``B``, a neutral value
            appended to the block values (``-inf`` for maxima, 0 for sums).
        group_starts (LongTensor): ``(G + 1,)`` group ``k`` is columns
            ``[group_starts[k], group_starts[k + 1])`` (the CPU kernel's
            layout); ``label_columns`` and ``label_groups`` ``(L,)``
            int32: the column (``column_of_label``) and the group of every
            output of the scores (the kernel's view).
    """

    def __init__(self,
                 group_slices: Sequence[Tuple[int, int]],
                 column_of_label: Optional[Tensor] = None,
                 block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        super().__init__()
        if block_size < 1:
            raise ValueError(f'block_size must be >= 1, got {block_size}')
        width = 0
        for start, end in group_slices:
            if start != width or end <= start:
                raise ValueError('group_slices must tile the columns in '
                                 f'order without gaps, got {group_slices}')
            width = end
        self.num_columns, self.num_groups = width, len(group_slices)
        self.first_group_end = group_slices[0][1] if group_slices else 0
        self.block_size = block_size
        source, padding, position = [], [], []
        group_of_block, blocks_of_group = [], []
        for group, (start, end) in enumerate(group_slices):
            blocks = -(-(end - start) // block_size)
            blocks_of_group.append(
                list(range(len(group_of_block), len(group_of_block) + blocks)))
            group_of_block += [group] * blocks
            position += range(len(source), len(source) + end - start)
            padding += range(len(source) + end - start,
                             len(source) + blocks * block_size)
            source += list(range(start, end)) + [end - 1] * (
                blocks * block_size - (end - start))
        self.num_blocks = len(group_of_block)
        self.padded_width = len(source)
        self.blocks_per_group = max(len(b) for b in blocks_of_group)
        block_slots = [
            b[slot] if slot < len(b) else self.num_blocks
            for b in blocks_of_group for slot in range(self.blocks_per_group)
        ]
        self.has_padding = bool(padding)
        buffers = dict(
            source_columns=torch.tensor(source, dtype=torch.long),
            padding=torch.tensor(padding, dtype=torch.long),
            padded_position=torch.tensor(position, dtype=torch.long),
            group_of_block=torch.tensor(group_of_block, dtype=torch.long),
            block_slots=torch.tensor(block_slots, dtype=torch.long),
            # Groups 1.. are scaled by group 0's first entry in the scores.
            class_groups=torch.arange(self.num_groups) > 0,
            # For the CPU kernel: group k is [starts[k], starts[k + 1]).
            group_starts=torch.tensor(
                [start for start, _ in group_slices] + [width],
                dtype=torch.long))
        if column_of_label is not None:
            label_columns = torch.as_tensor(column_of_label).long()
            if label_columns.numel() and not (
                    0 <= int(label_columns.min())
                    and int(label_columns.max()) < width):
                raise ValueError('column_of_label must hold columns in '
                                 f'[0, {width})')
            buffers['label_positions'] = buffers['padded_position'][
                label_columns]
            # The CPU kernel's scores pass reads 32-bit columns and groups.
            group_of_column = torch.repeat_interleave(
                torch.arange(self.num_groups, dtype=torch.int32),
                torch.tensor([end - start for start, end in group_slices],
                             dtype=torch.long))
            buffers['label_columns'] = label_columns.to(torch.int32)
            buffers['label_groups'] = group_of_column[label_columns]
        for name, tensor in buffers.items():
            self.register_buffer(name, tensor, persistent=False)

    def kernel_arguments(self) -> Tuple[int, ...]:
        """The CPU kernel's view of the groups: the addresses of
        ``group_starts``, ``label_columns`` and ``label_groups`` (0 without
        ``column_of_label``), ``G`` and ``L``. Read from the
        buffer dict directly (a call's fixed cost is a few microseconds of
        Python); never cached, so a moved or copied module gives its own
        buffers' addresses."""
        buffers = self._buffers
        labels = buffers.get('label_columns')
        if labels is None:
            return buffers['group_starts'].data_ptr(), 0, 0, \
                self.num_groups, 0
        return (buffers['group_starts'].data_ptr(), labels.data_ptr(),
                buffers['label_groups'].data_ptr(), self.num_groups,
                labels.numel())

    def extra_repr(self) -> str:
        return (f'{self.num_columns} columns, {self.num_groups} groups, '
                f'{self.num_blocks} blocks of {self.block_size} '
                f'({self.padded_width} padded places)')


def _pointer(tensor: Optional[Tensor]):
    return None if tensor is None else tensor.data_ptr()


def _group_statistics(logits: Tensor,
                      columns: GroupColumns) -> Dict[str, Tensor]:
    """The passes shared by the loss and the scores.

    Args:
        logits (Tensor): ``(N, W)``.
        columns (GroupColumns): the groups.

    Returns:
        dict: ``exps`` ``(N, B, b)``, ``exp(z - c_k)`` in the padded row (0
        on padding); ``group_max`` ``c`` and ``group_sum`` ``S``, ``(N, G)``:
        ``p_j = exp(z_j - c_k) / S_k``.
    """
    num_rois = logits.size(0)
    padded = logits.index_select(1, columns.source_columns)
    if columns.has_padding:
        padded.index_fill_(1, columns.padding, float('-inf'))
    blocks = padded.view(num_rois, columns.num_blocks, columns.block_size)
    shape = (num_rois, columns.num_groups, columns.blocks_per_group)

    def per_group(block_values: Tensor, neutral: float) -> Tensor:
        """``(N, B)`` block values -> ``(N, G, K)``, ``neutral`` in the
        empty slots."""
        padded_values = torch.cat(
            [block_values, block_values.new_full((num_rois, 1), neutral)],
            dim=1)
        return padded_values.index_select(1, columns.block_slots).view(shape)

    group_max = per_group(blocks.amax(dim=2), float('-inf')).amax(dim=2)
    exps = blocks.sub_(
        group_max.index_select(1, columns.group_of_block).unsqueeze(2)).exp_()
    # A plain sum per group (no atomic adds: the same order, so the same
    # bits, on every run).
    group_sum = per_group(exps.sum(dim=2), 0.0).sum(dim=2)
    return dict(exps=exps, group_max=group_max, group_sum=group_sum)


class GroupCrossEntropy(torch.autograd.Function):
    """Cross-entropy of every RoI in every group, with a one-pass backward.

    ``ce[n, k] = -log softmax(logits[n, group k])[target_columns[n, k]]``.
    The backward pass, ``softmax * grad_ce[group] - one_hot * grad_ce``,
    is the saved ``exp(z - c)`` times one factor per block, gathered back
    to the columns.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, target_columns: Tensor,
                columns: GroupColumns) -> Tensor:
        ctx.columns = columns
        kernel = cpu_kernel.library_for(logits)
        ctx.fused = kernel is not None
        if ctx.fused:
            return _kernel_forward(ctx, kernel, logits, target_columns,
                                   columns)
        stats = _group_statistics(logits, columns)
        inverse_sum = stats['group_sum'].reciprocal()
        ctx.save_for_backward(target_columns, stats['exps'], inverse_sum)
        # -log p_t = (c - z_t) + log S: the large terms cancel first.
        return (stats['group_max'] - logits.gather(1, target_columns)).add_(
            stats['group_sum'].log_())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ce: Tensor):
        columns = ctx.columns
        if ctx.fused:
            return _kernel_backward(ctx, grad_ce), None, None
        target_columns, exps, inverse_sum = ctx.saved_tensors
        num_rois = exps.size(0)
        factors = (grad_ce * inverse_sum).index_select(
            1, columns.group_of_block)
        grad = (exps * factors.unsqueeze(2)).view(
            num_rois, columns.padded_width).index_select(
                1, columns.padded_position)
        grad.scatter_add_(1, target_columns, grad_ce.neg())
        return grad, None, None


def _kernel_forward(ctx, kernel, logits: Tensor, target_columns: Tensor,
                    columns: GroupColumns) -> Tensor:
    """:class:`GroupCrossEntropy`'s forward in the CPU kernel; saves the
    logits and the ``(N, G)`` maxima and reciprocal sums."""
    num_rois, width = logits.shape
    if width != columns.num_columns or target_columns.shape != (
            num_rois, columns.num_groups):
        raise ValueError(
            f'expected logits (N, {columns.num_columns}) and target columns '
            f'(N, {columns.num_groups}), got {tuple(logits.shape)} and '
            f'{tuple(target_columns.shape)}')
    logits = logits.contiguous()
    targets = target_columns.to(torch.long).contiguous()
    # Three tensors, not views of one: views share a version counter, so an
    # in-place change of the returned values would invalidate the saved ones.
    ce, maxima, inverse_sums = (
        logits.new_empty((num_rois, columns.num_groups)) for _ in range(3))
    bad = kernel.bags_group_ce_forward(
        _pointer(logits), num_rois, width, _pointer(columns.group_starts),
        columns.num_groups, _pointer(targets), _pointer(ce),
        _pointer(maxima), _pointer(inverse_sums), torch.get_num_threads())
    if bad >= 0:
        row, group = divmod(bad, columns.num_groups)
        raise ValueError(
            f'target_columns[{row}, {group}] = {int(targets[row, group])} is '
            f'not a column of group {group}')
    ctx.save_for_backward(logits, targets, maxima, inverse_sums)
    ctx.kernel = kernel
    return ce


def _kernel_backward(ctx, grad_ce: Tensor) -> Tensor:
    logits, targets, maxima, inverse_sums = ctx.saved_tensors
    columns = ctx.columns
    grad_ce = grad_ce.to(torch.float32).contiguous()
    grad = torch.empty_like(logits)
    ctx.kernel.bags_group_ce_backward(
        _pointer(logits), logits.size(0), logits.size(1),
        _pointer(columns.group_starts), columns.num_groups,
        _pointer(targets), _pointer(maxima), _pointer(inverse_sums),
        _pointer(grad_ce), _pointer(grad), torch.get_num_threads())
    return grad


def group_cross_entropy(logits: Tensor, target_columns: Tensor,
                        columns: GroupColumns) -> Tensor:
    """Softmax cross-entropy of every RoI in every group.

    Args:
        logits (Tensor): ``(N, W)``, float32 or float64.
        target_columns (LongTensor): ``(N, G)``: the target column of every
            RoI in every group, a column of that group.
        columns (GroupColumns): the groups.

    Returns:
        Tensor: ``(N, G)``, differentiable w.r.t. ``logits``.
    """
    return GroupCrossEntropy.apply(logits, target_columns, columns)


def group_softmax_scores(logits: Tensor, columns: GroupColumns,
                         foreground_column: int = 0) -> Tensor:
    """BAGS scores ``p0[fg] * p_k[j]`` (``p0[j]`` on group 0's columns), in
    the order of ``columns``' ``column_of_label``. Not differentiable.

    Args:
        logits (Tensor): ``(N, W)``, float32 or float64.
        columns (GroupColumns): built with ``column_of_label``.
        foreground_column (int): group 0's foreground column.

    Returns:
        Tensor: ``(N, L)``.
    """
    kernel = cpu_kernel.library_for(logits)
    if kernel is not None:
        if logits.dim() != 2 or logits.size(1) != columns.num_columns:
            raise ValueError(f'expected logits (N, {columns.num_columns}), '
                             f'got {tuple(logits.shape)}')
        if not 0 <= foreground_column < columns.first_group_end:
            raise ValueError(f'foreground_column {foreground_column} is not '
                             'a column of group 0')
        starts, labels, label_groups, groups, num_labels = \
            columns.kernel_arguments()
        if not labels:
            raise ValueError('the scores need GroupColumns built with '
                             'column_of_label')
        logits = logits.contiguous()
        num_rois, width = logits.shape
        scores = logits.new_empty((num_rois, num_labels))
        if kernel.bags_group_scores(
                logits.data_ptr(), num_rois, width, starts, groups,
                foreground_column, labels, label_groups, num_labels,
                scores.data_ptr(), torch.get_num_threads()) != 0:
            raise MemoryError('bags_group_scores could not allocate a row')
        return scores
    stats = _group_statistics(logits, columns)
    inverse_sum = stats['group_sum'].reciprocal()
    # p0[fg]; groups 1.. are scaled by it and their own 1 / S_k.
    foreground = (logits[:, foreground_column] -
                  stats['group_max'][:, 0]).exp_().mul_(inverse_sum[:, 0])
    scale = inverse_sum.mul_(
        torch.where(columns.class_groups, foreground.unsqueeze(1), 1.0))
    exps = stats['exps'].mul_(
        scale.index_select(1, columns.group_of_block).unsqueeze(2))
    return exps.view(exps.size(0), columns.padded_width).index_select(
        1, columns.label_positions)
