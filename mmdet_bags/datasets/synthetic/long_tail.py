"""Long-tail instance counts shaped like LVIS v1's, and their bins.

The LVIS v1 training instance counts are sorted in descending order, ``C``
of them are taken evenly spaced in rank (:func:`pick_long_tail_counts`) and
rescaled to the requested number of training instances
(:func:`rescale_counts`). The same scale factor maps the BAGS default bin
edges ``(10, 100, 1000)`` to the generated set (:func:`scaled_bin_edges`), so
its BAGS groups mirror those of LVIS.
"""
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ...grouping.bins import DEFAULT_BIN_EDGES
from ...grouping.sources import load_builtin_table

#: BAGS default instance-count bin edges, as in LVIS.
LVIS_BIN_EDGES: Tuple[int, ...] = DEFAULT_BIN_EDGES

#: LVIS frequency classes by number of training images containing the class:
#: 'r' for 1-10 images, 'c' for 11-100, 'f' for more than 100.
RARE_MAX_IMAGES = 10
COMMON_MAX_IMAGES = 100


def lvis_v1_instance_counts() -> np.ndarray:
    """LVIS v1 training instance counts of its 1203 classes, descending.

    Returns:
        np.ndarray: int64, shape ``(1203,)``.
    """
    return np.array(sorted(load_builtin_table('lvis_v1').instance_counts,
                           reverse=True), dtype=np.int64)


def pick_long_tail_counts(num_classes: int,
                          source_counts: Optional[Sequence[int]] = None
                          ) -> np.ndarray:
    """``num_classes`` counts evenly spaced in rank of a long tail.

    The ranks ``0..N-1`` of the descending source counts are cut into
    ``num_classes`` equal segments and the middle rank of each is taken, so
    the picked counts keep the shape of the whole tail (taking rank 0 itself
    would give one class most of the data: the largest LVIS class has 74
    times the median-rank count of the 32 picked).

    Args:
        num_classes: ``C <= N``.
        source_counts: counts in any order; LVIS v1 training instance counts
            by default.

    Returns:
        np.ndarray: int64, shape ``(C,)``, non-increasing.
    """
    counts = (lvis_v1_instance_counts() if source_counts is None else
              np.sort(np.asarray(source_counts, dtype=np.int64))[::-1])
    if not 1 <= num_classes <= len(counts):
        raise ValueError(f'cannot pick {num_classes} of {len(counts)} '
                         'source counts')
    ranks = ((np.arange(num_classes) + 0.5) * len(counts) /
             num_classes).astype(np.int64)
    return counts[ranks]


def rescale_counts(source_counts: Sequence[int],
                   total: int) -> Tuple[np.ndarray, float]:
    """Scale counts to sum exactly to ``total``, each at least 1.

    Counts are multiplied by ``scale = total / sum(source_counts)``, rounded
    down, raised to 1, and the difference to ``total`` is settled by the
    largest remainders (or taken from the largest counts); the result is
    sorted like the input, so a non-increasing input stays non-increasing.

    Args:
        source_counts: non-increasing positive counts, shape ``(C,)``.
        total: wanted sum, ``>= C``.

    Returns:
        tuple: int64 counts of shape ``(C,)`` summing to ``total``, and the
        scale factor.
    """
    source = np.asarray(source_counts, dtype=np.float64)
    if total < len(source):
        raise ValueError(f'{total} instances cannot give each of '
                         f'{len(source)} classes one instance')
    if np.any(np.diff(source) > 0) or np.any(source <= 0):
        raise ValueError('source_counts must be positive and non-increasing')
    scale = total / source.sum()
    exact = source * scale
    counts = np.maximum(np.floor(exact).astype(np.int64), 1)
    missing = total - int(counts.sum())
    if missing > 0:
        # Stable sort: among equal remainders the higher-ranked class first.
        by_remainder = np.argsort(-(exact - np.floor(exact)), kind='stable')
        counts[by_remainder[:missing]] += 1
    while missing < 0:
        # Raising counts to 1 overshot: take from the largest counts.
        counts[int(np.argmax(counts))] -= 1
        missing += 1
    return np.sort(counts)[::-1].copy(), float(scale)


def scaled_bin_edges(scale_factor: float,
                     base_edges: Sequence[int] = LVIS_BIN_EDGES
                     ) -> Tuple[int, ...]:
    """BAGS bin edges for a dataset scaled by ``scale_factor`` from LVIS.

    Each edge is multiplied by the factor and rounded half up, then raised to
    at least 1 and to one more than the previous edge, so the result is a
    valid ``bin_edges`` argument (positive, strictly increasing).

    Args:
        scale_factor: generated instances per LVIS instance.
        base_edges: edges for the unscaled data; ``(10, 100, 1000)``.

    Returns:
        tuple[int]: as many edges as ``base_edges``.
    """
    if not scale_factor > 0:
        raise ValueError(f'scale_factor must be positive, got {scale_factor}')
    edges: List[int] = []
    for edge in base_edges:
        scaled = max(1, int(math.floor(edge * scale_factor + 0.5)))
        if edges:
            scaled = max(scaled, edges[-1] + 1)
        edges.append(scaled)
    return tuple(edges)


def lvis_frequency(image_count: int) -> str:
    """LVIS frequency letter of a class in ``image_count`` training images:
    ``'r'`` (1-10), ``'c'`` (11-100) or ``'f'`` (more than 100)."""
    if image_count <= RARE_MAX_IMAGES:
        return 'r'
    if image_count <= COMMON_MAX_IMAGES:
        return 'c'
    return 'f'

