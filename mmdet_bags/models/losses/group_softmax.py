"""Softmax within contiguous column groups, in a few full-width passes.

The BAGS logits hold ``G`` groups of contiguous columns (see
:class:`~mmdet_bags.grouping.GroupLayout`), each with its own softmax. A
softmax per group slice costs a kernel and a copy per group, and the test
scores then need a scatter per group. Here every full-width pass is one
operation over all groups, whatever ``G``.

The first ``num_blocks * block_size`` columns are a free
``(N, num_blocks, block_size)`` view of the logits: **blocks**. A block
inside one group is *regular*. A block that straddles a group boundary, and
the ragged tail (padded to a block), is *irregular*; it is split into
**runs**, the columns of one group inside it. Irregular blocks are few
(about one per group boundary), so they are handled in a narrow tensor.

1. ``d``: the maximum of every block and every run;
2. ``e = exp(z - d)``: one subtraction (``d`` broadcast over each block) and
   one ``exp``, every block's and run's largest value being 1;
3. block and run sums of ``e``; each group's maximum ``c_k`` and its sum
   ``S_k = sum_j exp(z_j - c_k)`` follow from the blocks' and runs'
   ``(d, sum)``, a narrow ``(N, G, K)`` problem;
4. a probability is ``p_j = e_j * exp(d - c_k) / S_k``: the saved
   full-width ``e`` times one number per block or run. The backward pass and
   the scores are one broadcast multiply, not a softmax per group.

Every exponent is relative to the maximum of its own block, run or group,
so a group whose logits all sit far below the row's maximum stays exact,
and ``c`` is kept apart from ``log S``, so logits of magnitude ``1e4`` keep
the digits of their softmax. A NaN logit makes its own group's terms NaN
and no other group's.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.autograd.function import once_differentiable

#: Columns per block: wide enough for vectorised reductions over a block,
#: narrow enough that the blocks straddling a group boundary stay narrow.
DEFAULT_BLOCK_SIZE = 32


class GroupColumns(nn.Module):
    """Blocks, irregular blocks and runs of ``W`` columns in ``G``
    contiguous groups: the index tensors of the fused group softmax.

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
        num_blocks (int), block_size (int): the blocks of the view.
        straddling_blocks (LongTensor): ``(S,)`` irregular blocks of the
            view; with a tail there are ``I = S + 1`` irregular blocks.
        run_excluded (BoolTensor): ``(I, R, block_size)``, True off the run.
        run_of_column (LongTensor): ``(I * block_size,)`` the run (index
            into ``I * R``) of every irregular column (0 on the tail's pad).
        piece_index (LongTensor): ``(G * K,)`` each group's pieces, indices
            into ``[blocks, runs, pad]``; ``piece_position`` ``(P,)`` is the
            inverse, the slot of every piece in ``(G * K)``.
        group_of_piece (LongTensor): ``(P,)``, ``P = num_blocks + I * R``.
        label_columns (LongTensor): ``(L,)`` ``column_of_label``, if
            given.
    """

    def __init__(self,
                 group_slices: Sequence[Tuple[int, int]],
                 column_of_label: Optional[Tensor] = None,
                 block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        super().__init__()
        if block_size < 1:
            raise ValueError(f'block_size must be >= 1, got {block_size}')
        group_of_column = []
        for group, (start, end) in enumerate(group_slices):
            if start != len(group_of_column) or end <= start:
                raise ValueError('group_slices must tile the columns in '
                                 f'order without gaps, got {group_slices}')
            group_of_column += [group] * (end - start)
        width = len(group_of_column)
        self.num_columns, self.num_groups = width, len(group_slices)
        self.block_size = block_size
        self.num_blocks = width // block_size
        self.blocked_width = self.num_blocks * block_size
        self.tail_width = width - self.blocked_width

        pieces = [[] for _ in range(self.num_groups)]
        group_of_piece, straddling, irregular_columns = [], [], []
        for block in range(self.num_blocks):
            columns = range(block * block_size, (block + 1) * block_size)
            group_of_piece.append(group_of_column[columns[0]])
            if len({group_of_column[col] for col in columns}) == 1:
                pieces[group_of_piece[-1]].append(block)
            else:
                straddling.append(block)
                irregular_columns += columns
        irregular_columns += range(self.blocked_width, width)
        # Runs: consecutive irregular columns of one group inside a block.
        runs = []
        for start in range(0, len(irregular_columns), block_size):
            block_runs = []
            for offset, col in enumerate(
                    irregular_columns[start:start + block_size]):
                group = group_of_column[col]
                if not block_runs or block_runs[-1][0] != group:
                    block_runs.append((group, []))
                block_runs[-1][1].append(offset)
            runs.append(block_runs)
        self.num_irregular = len(runs)
        self.runs_per_block = max([len(r) for r in runs], default=1)
        self.num_runs = self.num_irregular * self.runs_per_block
        run_excluded = torch.ones(self.num_irregular, self.runs_per_block,
                                  block_size, dtype=torch.bool)
        run_of_column = torch.zeros(self.num_irregular, block_size,
                                    dtype=torch.long)
        for index, block_runs in enumerate(runs):
            for run in range(self.runs_per_block):
                piece = self.num_blocks + index * self.runs_per_block + run
                group, offsets = (block_runs[run] if run < len(block_runs)
                                  else (0, []))
                group_of_piece.append(group)
                if offsets:
                    pieces[group].append(piece)
                run_excluded[index, run, offsets] = False
                run_of_column[index, offsets] = piece - self.num_blocks
        # Every group gets at least one pad piece (value -inf, sum 0); the
        # empty runs point at group 0's last one.
        self.pieces_per_group = max(len(p) for p in pieces) + 1
        pad = len(group_of_piece)
        piece_position = [(self.pieces_per_group - 1)] * pad
        for group, group_pieces in enumerate(pieces):
            for slot, piece in enumerate(group_pieces):
                piece_position[piece] = group * self.pieces_per_group + slot
        piece_index = [
            i for p in pieces for i in p + [pad] *
            (self.pieces_per_group - len(p))
        ]
        irregular_columns += [width - 1] * (
            self.num_irregular * block_size - len(irregular_columns))
        buffers = dict(
            straddling_blocks=torch.tensor(straddling, dtype=torch.long),
            irregular_columns=torch.tensor(irregular_columns,
                                           dtype=torch.long),
            run_excluded=run_excluded,
            run_of_column=run_of_column.flatten(),
            piece_index=torch.tensor(piece_index, dtype=torch.long),
            piece_position=torch.tensor(piece_position, dtype=torch.long),
            group_of_piece=torch.tensor(group_of_piece, dtype=torch.long),
            pad_piece=torch.tensor([[float('-inf'), 0.0]]),
            # Groups 1.. are scaled by group 0's first entry in the scores.
            class_groups=torch.arange(self.num_groups) > 0)
        if column_of_label is not None:
            # Scores are gathered from the blocks followed by the tail.
            buffers['label_columns'] = torch.as_tensor(
                column_of_label).long()
        for name, tensor in buffers.items():
            self.register_buffer(name, tensor, persistent=False)

    def extra_repr(self) -> str:
        return (f'{self.num_columns} columns, {self.num_groups} groups, '
                f'{self.num_blocks} blocks of {self.block_size}, '
                f'{self.num_irregular} irregular')


def _group_statistics(logits: Tensor, columns: GroupColumns,
                      exps: Optional[Tensor] = None) -> Dict[str, Tensor]:
    """The passes shared by the loss and the scores.

    Args:
        logits (Tensor): ``(N, W)``.
        columns (GroupColumns): the groups.
        exps (Tensor, optional): ``(N, num_blocks, block_size)`` to write
            ``exp(z - d)`` to (a view of a larger buffer, say).

    Returns:
        dict: ``exps`` ``(N, num_blocks, block_size)`` and
        ``irregular_exps`` ``(N, I * block_size)``, ``exp(z - d)``;
        ``group_max`` ``c`` and ``group_sum`` ``S``, ``(N, G)``:
        ``p_j = exp(z_j - c_k) / S_k``; ``relative`` ``(N, G, K)``,
        ``exp(d - c_k)`` of every piece of every group.
    """
    num_rois, size = logits.size(0), columns.block_size
    blocks = logits[:, :columns.blocked_width].view(num_rois,
                                                    columns.num_blocks, size)
    block_max = blocks.amax(dim=2)
    exps = torch.sub(blocks, block_max.unsqueeze(2), out=exps).exp_()
    block_sum = exps.sum(dim=2)
    # Irregular blocks: the straddling blocks, then the tail padded with
    # copies of the last column (in no run).
    irregular = logits.index_select(1, columns.irregular_columns)
    by_run = irregular.view(num_rois, columns.num_irregular, 1, size)
    # Masks select, they are not added or multiplied: a NaN stays in its
    # run.
    pad_piece = columns.pad_piece.to(logits.dtype)
    run_max = torch.where(columns.run_excluded, pad_piece[0, 0],
                          by_run).amax(dim=3).view(num_rois, columns.num_runs)
    irregular_exps = irregular.sub_(
        run_max.index_select(1, columns.run_of_column)).exp_()
    run_sum = torch.where(columns.run_excluded, pad_piece[0, 1],
                          irregular_exps.view(by_run.shape)).sum(dim=3).view(
                              num_rois, columns.num_runs)
    # (value, sum) of every piece, then of the pad piece: (-inf, 0).
    values = torch.cat(
        [block_max, run_max, pad_piece[:, :1].expand(num_rois, 1)], dim=1)
    sums = torch.cat(
        [block_sum, run_sum, pad_piece[:, 1:].expand(num_rois, 1)], dim=1)
    shape = (num_rois, columns.num_groups, columns.pieces_per_group)
    grouped = values.index_select(1, columns.piece_index).view(shape)
    group_max = grouped.amax(dim=2)
    # S = sum over the group's pieces of exp(d - c) * sum(exp(z - d)).
    relative = grouped.sub_(group_max.unsqueeze(2)).exp_()
    group_sum = (relative * sums.index_select(1, columns.piece_index).view(
        shape)).sum(dim=2)
    return dict(exps=exps, irregular_exps=irregular_exps,
                group_max=group_max, group_sum=group_sum, relative=relative)


def _piece_factors(relative: Tensor, scale: Tensor,
                   columns: GroupColumns) -> Tensor:
    """``exp(d - c_k) * scale_k`` for every block and run, ``k`` its group:
    ``exp(z - d)`` times it is ``exp(z - c_k) * scale_k``.

    Returns:
        Tensor: ``(N, P)``.
    """
    factors = relative * scale.unsqueeze(2)
    return factors.view(factors.size(0),
                        columns.num_groups * columns.pieces_per_group
                        ).index_select(1, columns.piece_position)


def _irregular_products(irregular_exps: Tensor, factors: Tensor,
                        columns: GroupColumns) -> Tensor:
    """``exp(z - d) * factor`` on the irregular columns, ``(N, I * b)``."""
    return factors[:, columns.num_blocks:].index_select(
        1, columns.run_of_column).mul_(irregular_exps)


def _write_irregular(out: Tensor, irregular: Tensor,
                     columns: GroupColumns) -> None:
    """Write the irregular columns' values ``(N, I * b)`` into ``out``
    ``(N, W)``: the straddling blocks, then the tail."""
    num_rois, size = out.size(0), columns.block_size
    num_straddling = columns.straddling_blocks.numel()
    straddling = num_straddling * size
    out[:, :columns.blocked_width].view(
        num_rois, columns.num_blocks, size).index_copy_(
            1, columns.straddling_blocks,
            irregular[:, :straddling].view(num_rois, num_straddling, size))
    out[:, columns.blocked_width:] = irregular[
        :, straddling:straddling + columns.tail_width]


class GroupCrossEntropy(torch.autograd.Function):
    """Cross-entropy of every RoI in every group, with a one-pass backward.

    ``ce[n, k] = -log softmax(logits[n, group k])[target_columns[n, k]]``.
    The backward pass, ``softmax * grad_ce[group] - one_hot * grad_ce``,
    is the saved ``exp(z - d)`` times one factor per block or run.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, target_columns: Tensor,
                columns: GroupColumns) -> Tensor:
        stats = _group_statistics(logits, columns)
        # p_j = exp(z_j - d) * exp(d - c_k) / S_k.
        factors = _piece_factors(stats['relative'],
                                 stats['group_sum'].reciprocal(), columns)
        ctx.columns = columns
        ctx.save_for_backward(target_columns, stats['exps'],
                              stats['irregular_exps'], factors)
        # -log p_t = (c - z_t) + log S: the large terms cancel first.
        return (stats['group_max'] - logits.gather(1, target_columns)).add_(
            stats['group_sum'].log())

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ce: Tensor):
        columns = ctx.columns
        target_columns, exps, irregular_exps, factors = ctx.saved_tensors
        num_rois, num_blocks = exps.size(0), columns.num_blocks
        factors = factors * grad_ce.index_select(1, columns.group_of_piece)
        grad = exps.new_empty((num_rois, columns.num_columns))
        grad_blocks = grad[:, :columns.blocked_width].view(exps.shape)
        torch.mul(exps, factors[:, :num_blocks].unsqueeze(2), out=grad_blocks)
        _write_irregular(
            grad, _irregular_products(irregular_exps, factors, columns),
            columns)
        grad.scatter_add_(1, target_columns, grad_ce.neg())
        return grad, None, None


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
    num_rois, size = logits.size(0), columns.block_size
    # Blocks, then the tail as one more block: the scores' gather source.
    buffer = logits.new_empty(
        (num_rois, columns.num_blocks + int(columns.tail_width > 0), size))
    stats = _group_statistics(logits, columns,
                              buffer[:, :columns.num_blocks])
    inverse_sum = stats['group_sum'].reciprocal()
    # p0[fg]; groups 1.. are scaled by it and their own 1 / S_k.
    foreground = (logits[:, foreground_column] -
                  stats['group_max'][:, 0]).exp_().mul_(inverse_sum[:, 0])
    scale = inverse_sum.mul_(
        torch.where(columns.class_groups, foreground.unsqueeze(1), 1.0))
    factors = _piece_factors(stats['relative'], scale, columns)
    stats['exps'].mul_(factors[:, :columns.num_blocks].unsqueeze(2))
    flat = buffer.view(num_rois, buffer.size(1) * size)
    _write_irregular(
        flat[:, :columns.num_columns],
        _irregular_products(stats['irregular_exps'], factors, columns),
        columns)
    return flat.index_select(1, columns.label_columns)
