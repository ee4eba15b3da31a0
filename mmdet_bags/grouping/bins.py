"""Instance-count bins: the one binning rule of the package.

BAGS puts a class with ``n`` training instances in bin
``bisect_right(bin_edges, n)``, so a count equal to an edge belongs to the
bin that starts at that edge. ``k`` edges give ``k + 1`` bins, the intervals
``[0, e1), [e1, e2), ..., [e_k, inf)``; with the default edges
``(10, 100, 1000)`` they are ``[0, 10)``, ``[10, 100)``, ``[100, 1000)`` and
``[1000, inf)``. The group layout, the per-bin metrics, the dataset generator
and the tools all bin through this module.

Plain Python: no torch, numpy or MMDetection import, so the dataset generator
can use it without model code.
"""
import bisect
import numbers
from typing import List, Optional, Sequence, Tuple

#: The paper's (and LVIS's) bin edges.
DEFAULT_BIN_EDGES: Tuple[int, ...] = (10, 100, 1000)

#: A bin as ``(low, high)``: counts ``low <= n < high``; ``high`` is None
#: for the last, open bin.
Interval = Tuple[int, Optional[int]]


def validate_bin_edges(bin_edges: Sequence[int]) -> Tuple[int, ...]:
    """Check that bin edges are positive integers in strictly ascending order.

    Args:
        bin_edges: a sequence (or a 1-d tensor/array, anything with
            ``tolist()``) of instance counts.

    Returns:
        tuple[int]: the edges as Python ints.

    Raises:
        ValueError: naming the offending edges.
    """
    if hasattr(bin_edges, 'tolist') and not isinstance(bin_edges, Sequence):
        bin_edges = bin_edges.tolist()  # torch tensor, numpy array
    if isinstance(bin_edges, (str, bytes)) or not isinstance(
            bin_edges, Sequence):
        raise ValueError('bin_edges must be a sequence of positive integers '
                         f'such as (10, 100, 1000), got {bin_edges!r}')
    edges = tuple(bin_edges)
    if not edges:
        raise ValueError('bin_edges must hold at least one edge, e.g. (100,) '
                         'for two bins; got an empty sequence')
    checked = []
    for edge in edges:
        if isinstance(edge, bool) or not isinstance(edge, numbers.Real) \
                or edge != edge or int(edge) != edge or edge <= 0:
            raise ValueError(
                'bin_edges must be positive integers (instance counts), got '
                f'{edge!r} in {edges!r}')
        checked.append(int(edge))
    for low, high in zip(checked, checked[1:]):
        if high <= low:
            raise ValueError('bin_edges must be strictly ascending without '
                             f'duplicates, got {edges!r}')
    return tuple(checked)


def bin_of_count(instance_count: int, bin_edges: Sequence[int]) -> int:
    """Bin index ``0..len(bin_edges)`` of a class with ``instance_count``
    training instances (``bisect_right``: a count equal to an edge belongs
    to the bin that starts at that edge)."""
    return bisect.bisect_right(bin_edges, instance_count)


def bin_intervals(bin_edges: Sequence[int]) -> List[Interval]:
    """The interval ``(low, high)`` of every bin, ``len(bin_edges) + 1`` of
    them; ``high`` is None for the last. With ``(10, 100, 1000)``:
    ``[(0, 10), (10, 100), (100, 1000), (1000, None)]``."""
    edges = tuple(bin_edges)
    return list(zip((0, ) + edges, edges + (None, )))


def bin_interval(bin_index: int, bin_edges: Sequence[int]) -> Interval:
    """The interval ``(low, high)`` of bin ``bin_index``.

    Raises:
        IndexError: ``bin_index`` outside ``0..len(bin_edges)``.
    """
    if not 0 <= bin_index <= len(bin_edges):
        raise IndexError(f'bin {bin_index} does not exist: {len(bin_edges)} '
                         f'edges give bins 0..{len(bin_edges)}')
    return bin_intervals(bin_edges)[bin_index]


def format_interval(low: int, high: Optional[int]) -> str:
    """``'[10, 100)'``, or ``'[1000, inf)'`` for an open bin."""
    return f'[{low}, {"inf" if high is None else high})'


def bin_labels(bin_edges: Sequence[int]) -> List[str]:
    """The interval of every bin as text: ``['[0, 10)', ..., '[1000, inf)']``
    for ``(10, 100, 1000)``."""
    return [format_interval(low, high)
            for low, high in bin_intervals(bin_edges)]


def classes_per_bin(instance_counts: Sequence[int],
                    bin_edges: Sequence[int]) -> List[List[int]]:
    """The labels (indices into ``instance_counts``) in every bin, ascending;
    ``len(bin_edges) + 1`` lists, empty bins included."""
    edges = list(bin_edges)
    members: List[List[int]] = [[] for _ in range(len(edges) + 1)]
    for label, count in enumerate(instance_counts):
        members[bin_of_count(int(count), edges)].append(label)
    return members


def bin_sizes(instance_counts: Sequence[int],
              bin_edges: Sequence[int]) -> Tuple[int, ...]:
    """Number of classes in every bin, ``len(bin_edges) + 1`` values (empty
    bins included, unlike the groups of a layout)."""
    return tuple(len(labels)
                 for labels in classes_per_bin(instance_counts, bin_edges))
