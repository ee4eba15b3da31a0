"""The BAGS group layout: which classifier column means what.

Balanced Group Softmax splits the ``C`` foreground classes into groups by
their number of training instances and gives every group its own softmax.
:class:`GroupLayout` is the single place where that split and the resulting
classifier layout are computed; the loss, the activation, the head, the
checkpoint checks and the tools all ask it.

Conventions (MMDetection 3.x):

* labels ``0 .. C-1`` are the foreground classes in dataset order, label
  ``C`` is background;
* a class with ``n`` training instances falls in bin
  ``bisect_right(bin_edges, n)`` (:mod:`~mmdet_bags.grouping.bins`); with
  the default edges ``(10, 100, 1000)`` the bins are ``[0, 10)``,
  ``[10, 100)``, ``[100, 1000)``, ``[1000, inf)``;
* **empty bins are dropped**: group ``k >= 1`` is the ``k``-th *non-empty*
  bin in ascending order, so every group has at least one class and the
  classifier has no dead softmax. With LVIS and the default edges no bin is
  empty and group ``k`` is bin ``k - 1``;
* group 0 is the background group with two entries, "foreground" (any
  object) and background.

Logit column order, ``C + 1 + G`` columns for ``G`` groups (group 0
included)::

    [fg, bg | others_1, classes of group 1 | others_2, classes of group 2 | ...]

Each group occupies contiguous columns. Inside a group, position 0 is the
group's extra entry ("foreground" for group 0, "others" for ``k >= 1``) and
positions ``1..`` are its own entries (background for group 0, the group's
classes in ascending label order for ``k >= 1``).
"""
import numbers
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from .bins import (DEFAULT_BIN_EDGES, bin_interval, bin_of_count,
                   format_interval, validate_bin_edges)

#: Keys of the tensors that carry a layout in a module's state dict.
STATE_KEYS: Tuple[str, ...] = ('instance_counts', 'bin_edges')


def _as_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or value != value or int(value) != value:
        raise ValueError(f'{what} must be a non-negative integer, got '
                         f'{value!r}')
    if value < 0:
        raise ValueError(f'{what} must be a non-negative integer, got '
                         f'{value!r}')
    return int(value)


class GroupLayout:
    """How ``C`` classes are grouped and where each group sits in the logits.

    Build it with :meth:`from_counts`. Instances are immutable; two layouts
    compare equal when they group the same number of classes identically
    (the counts behind them may differ).

    Args:
        instance_counts (Sequence[int]): training instances of each class,
            in label order (label ``i`` is the dataset's ``i``-th class).
        bin_edges (Sequence[int]): positive, strictly ascending integers.

    Attributes:
        num_classes (int): ``C``.
        num_groups (int): ``G``, group 0 included.
        num_logits (int): ``C + 1 + G``, the classifier width.
        group_of (LongTensor): shape ``(C,)``, group ``1..G-1`` of each class.
        group_sizes (tuple[int]): number of classes in groups ``1..G-1``.
        group_bins (tuple[int]): bin index (into ``bin_edges`` intervals) of
            groups ``1..G-1``; differs from ``k - 1`` only when bins are
            empty.
        instance_counts (tuple[int]) and bin_edges (tuple[int]): the inputs.
    """

    def __init__(self, instance_counts: Sequence[int],
                 bin_edges: Sequence[int] = DEFAULT_BIN_EDGES) -> None:
        if isinstance(instance_counts, torch.Tensor):
            instance_counts = instance_counts.tolist()
        if isinstance(instance_counts, (str, bytes, dict)) or \
                not isinstance(instance_counts, Sequence):
            raise ValueError('instance_counts must be a sequence of '
                             'non-negative integers in label order, got '
                             f'{type(instance_counts).__name__}')
        if len(instance_counts) == 0:
            raise ValueError('instance_counts is empty: a layout needs at '
                             'least one class')
        self.instance_counts: Tuple[int, ...] = tuple(
            _as_count(count, f'instance_counts[{label}]')
            for label, count in enumerate(instance_counts))
        self.bin_edges: Tuple[int, ...] = validate_bin_edges(bin_edges)

        bins = [bin_of_count(count, self.bin_edges)
                for count in self.instance_counts]
        self.group_bins: Tuple[int, ...] = tuple(sorted(set(bins)))
        group_of_bin = {b: k for k, b in enumerate(self.group_bins, start=1)}
        self._group_of = torch.tensor([group_of_bin[b] for b in bins],
                                      dtype=torch.long)
        self.num_classes = len(self.instance_counts)
        self.num_groups = len(self.group_bins) + 1
        self.num_logits = self.num_classes + 1 + self.num_groups
        self.group_sizes: Tuple[int, ...] = tuple(
            bins.count(b) for b in self.group_bins)

        # Column bookkeeping, computed once.
        members: List[List[int]] = [[] for _ in range(self.num_groups)]
        for label, group in enumerate(bins):
            group = group_of_bin[group]
            members[group].append(label)
        self._group_starts: List[int] = []
        column_of_label = [0] * (self.num_classes + 1)
        start = 0
        for group in range(self.num_groups):
            self._group_starts.append(start)
            if group == 0:
                column_of_label[self.num_classes] = start + 1
                start += 2
                continue
            for position, label in enumerate(members[group], start=1):
                column_of_label[label] = start + position
            start += 1 + len(members[group])
        assert start == self.num_logits
        self._group_ends = self._group_starts[1:] + [self.num_logits]
        self._column_of_label = torch.tensor(column_of_label,
                                             dtype=torch.long)

    # ------------------------------------------------------------ building
    @classmethod
    def from_counts(cls, instance_counts: Sequence[int],
                    bin_edges: Sequence[int] = DEFAULT_BIN_EDGES
                    ) -> 'GroupLayout':
        """The layout of classes with these training-instance counts.

        Args:
            instance_counts (Sequence[int]): counts in label order.
            bin_edges (Sequence[int]): defaults to ``(10, 100, 1000)``.
        """
        return cls(instance_counts, bin_edges)

    # ------------------------------------------------------------- columns
    @property
    def group_of(self) -> torch.Tensor:
        """LongTensor ``(C,)``: group ``1..G-1`` of each class."""
        return self._group_of.clone()

    @property
    def foreground_column(self) -> int:
        """Column of group 0's "foreground / any object" entry (0)."""
        return self._group_starts[0]

    @property
    def background_column(self) -> int:
        """Column of group 0's background entry (1)."""
        return self._group_starts[0] + 1

    def group_slice(self, group: int) -> slice:
        """The contiguous columns of ``group`` as a slice."""
        self._check_group(group)
        return slice(self._group_starts[group], self._group_ends[group])

    def group_columns(self, group: int) -> torch.Tensor:
        """Logit columns of ``group`` in local order.

        Position 0 is the group's extra entry ("foreground" for group 0,
        "others" for ``k >= 1``); positions ``1..`` are its own entries
        (background for group 0, its classes in ascending label order).

        Returns:
            LongTensor: shape ``(group size + 1,)``.
        """
        group_range = self.group_slice(group)
        return torch.arange(group_range.start, group_range.stop)

    @property
    def extra_columns(self) -> torch.Tensor:
        """LongTensor ``(G,)``: column of each group's extra entry
        ("foreground" for group 0, "others" for ``k >= 1``)."""
        return torch.tensor(self._group_starts, dtype=torch.long)

    @property
    def group_of_label(self) -> torch.Tensor:
        """LongTensor ``(C + 1,)``: group of each label, background -> 0."""
        return torch.cat([self._group_of, self._group_of.new_zeros(1)])

    @property
    def column_of_label(self) -> torch.Tensor:
        """LongTensor ``(C + 1,)``: logit column of each label's own entry
        (the class column; for background, group 0's background column)."""
        return self._column_of_label.clone()

    @property
    def class_columns(self) -> torch.Tensor:
        """LongTensor ``(C,)``: logit column of each foreground class."""
        return self._column_of_label[:self.num_classes].clone()

    def classes_in_group(self, group: int) -> torch.Tensor:
        """Labels of the classes of group ``k >= 1``, ascending."""
        self._check_group(group)
        if group == 0:
            raise ValueError('group 0 is the background group and holds no '
                             'foreground class')
        return torch.nonzero(self._group_of == group).flatten()

    def group_count_range(self, group: int) -> Tuple[int, Optional[int]]:
        """The instance-count interval ``[low, high)`` that defines group
        ``k >= 1`` (``high`` is None for the open last bin)."""
        if group == 0:
            raise ValueError('group 0 (background) has no count range')
        self._check_group(group)
        return bin_interval(self.group_bins[group - 1], self.bin_edges)

    def _check_group(self, group: int) -> None:
        if not 0 <= group < self.num_groups:
            raise IndexError(f'group {group} does not exist: this layout has '
                             f'groups 0..{self.num_groups - 1}')

    # ------------------------------------------------------- serialisation
    def to_dict(self) -> Dict[str, list]:
        """A JSON-friendly description that :meth:`from_dict` restores."""
        return dict(instance_counts=list(self.instance_counts),
                    bin_edges=list(self.bin_edges),
                    group_sizes=list(self.group_sizes))

    @classmethod
    def from_dict(cls, data: Dict[str, list]) -> 'GroupLayout':
        """Inverse of :meth:`to_dict` (``group_sizes`` is checked)."""
        layout = cls(data['instance_counts'], data['bin_edges'])
        expected = data.get('group_sizes')
        if expected is not None and list(layout.group_sizes) != list(expected):
            raise ValueError(
                f'layout dict says group sizes {list(expected)} but its '
                f'counts and edges give {list(layout.group_sizes)}')
        return layout

    def state_tensors(self) -> Dict[str, torch.Tensor]:
        """The tensors a module keeps as buffers to carry this layout
        (keys :data:`STATE_KEYS`); see :meth:`from_state_tensors`."""
        return dict(
            instance_counts=torch.tensor(self.instance_counts,
                                         dtype=torch.long),
            bin_edges=torch.tensor(self.bin_edges, dtype=torch.long))

    @classmethod
    def from_state_tensors(cls, tensors: Dict[str, torch.Tensor]
                           ) -> 'GroupLayout':
        """Rebuild a layout from :meth:`state_tensors` output."""
        return cls(tensors['instance_counts'].tolist(),
                   tensors['bin_edges'].tolist())

    # ---------------------------------------------------------- comparison
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GroupLayout):
            return NotImplemented
        return (self.num_classes == other.num_classes
                and torch.equal(self._group_of, other._group_of))

    def __hash__(self) -> int:
        return hash((self.num_classes, tuple(self._group_of.tolist())))

    def describe(self) -> str:
        """One line: classes, groups with their sizes and count ranges."""
        parts = []
        for group in range(1, self.num_groups):
            span = format_interval(*self.group_count_range(group))
            parts.append(f'{self.group_sizes[group - 1]} in {span}')
        return (f'{self.num_classes} classes, {self.num_groups - 1} '
                f'foreground groups ({", ".join(parts)}), bin_edges='
                f'{list(self.bin_edges)}, {self.num_logits} logits')

    def difference(self, other: 'GroupLayout') -> Optional[str]:
        """None if the layouts are equal, else what differs, in words."""
        if self == other:
            return None
        if self.num_classes != other.num_classes:
            return (f'{self.num_classes} classes vs {other.num_classes} '
                    'classes')
        if self.group_sizes != other.group_sizes:
            return (f'group sizes {list(self.group_sizes)} vs '
                    f'{list(other.group_sizes)}')
        moved = torch.nonzero(self._group_of != other._group_of).flatten()
        examples = ', '.join(
            f'label {label}: group {self._group_of[label]} vs '
            f'{other._group_of[label]}' for label in moved[:5].tolist())
        more = '' if len(moved) <= 5 else f' and {len(moved) - 5} more'
        return (f'{len(moved)} classes are in different groups '
                f'({examples}{more})')

    def __repr__(self) -> str:
        return f'GroupLayout({self.describe()})'


LayoutLike = Union[GroupLayout, str, dict, Sequence[int]]


def layout_from_state_dict(state_dict: Mapping[str, torch.Tensor],
                           prefix: str = '') -> Optional[GroupLayout]:
    """The layout a BAGS loss saved in a state dict, or None if it has none.

    A ``GroupSoftmaxLoss`` keeps its layout as the buffers
    :data:`STATE_KEYS`, so a checkpoint carries its groups; this is the one
    reader of them (for the loss, the head and the tools).

    Args:
        state_dict: a model's (or checkpoint's) state dict.
        prefix: the loss's key prefix, e.g. ``'roi_head.bbox_head.loss_cls.'``
            (a cascade stage: ``'roi_head.bbox_head.2.loss_cls.'``).

    Returns:
        GroupLayout or None: None when a key of :data:`STATE_KEYS` is missing
        under ``prefix`` (e.g. an ordinary softmax checkpoint).

    Raises:
        ValueError: the keys are there but hold no valid layout, naming the
            prefix.
    """
    if not all(prefix + name in state_dict for name in STATE_KEYS):
        return None
    try:
        return GroupLayout.from_state_tensors(
            {name: state_dict[prefix + name] for name in STATE_KEYS})
    except ValueError as error:
        raise ValueError(f'the state dict holds invalid BAGS groups at '
                         f'{prefix}*: {error}') from None
