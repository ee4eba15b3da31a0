"""Each class's top-K detections by score, at once or while results arrive.

Fixed AP (Dave et al., 2021) evaluates, for every class, its ``K``
highest-scored detections over the whole dataset, with no per-image limit.
:func:`top_k_per_class` is the one place where that selection is defined;
:class:`ClassTopK` applies it to detections that arrive batch by batch, so
that memory stays at ``O(K x classes)`` however many detections a model
emits.

Ties: among detections of one class with equal scores the one that arrived
first wins, as in the authors' script, which takes the first ``K`` of a
stable sort by score of the results in file order.
"""
from typing import Dict, List, Optional

import numpy as np

#: Detections of one image get tie keys ``image_position * 2**24 + index``;
#: a model would have to emit over 16 M detections per image to collide.
DETECTIONS_PER_IMAGE_SLOTS = 1 << 24


def check_max_dets_per_class(max_per_class) -> int:
    if isinstance(max_per_class, bool) or not isinstance(
            max_per_class, (int, np.integer)) or max_per_class <= 0:
        raise ValueError('max_dets_per_class must be a positive integer (the '
                         'K of Fixed AP, 10000 for LVIS), got '
                         f'{max_per_class!r}')
    return int(max_per_class)


def top_k_per_class(labels: np.ndarray, scores: np.ndarray,
                    max_per_class: int,
                    order: Optional[np.ndarray] = None) -> np.ndarray:
    """Indices of every class's ``max_per_class`` highest scores.

    Args:
        labels: ``(N,)`` class (label or category id) of each detection.
        scores: ``(N,)`` scores; must not be NaN.
        max_per_class: ``K``, positive.
        order: ``(N,)`` tie key (arrival order, smaller wins); default the
            position in the arrays.

    Returns:
        np.ndarray: int64 indices into the arrays, ascending, at most ``K``
        per class: per class, the ``K`` largest scores, ties won by the
        smaller ``order``.

    Raises:
        ValueError: ``K`` is not a positive integer, lengths differ or a
            score is NaN.
    """
    max_per_class = check_max_dets_per_class(max_per_class)
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    if order is None:
        order = np.arange(len(labels))
    if not labels.shape == scores.shape == np.shape(order) or \
            labels.ndim != 1:
        raise ValueError('labels, scores and order must be 1-d arrays of one '
                         f'length, got shapes {labels.shape}, {scores.shape} '
                         f'and {np.shape(order)}')
    if np.isnan(scores).any():
        raise ValueError('scores must not be NaN (a NaN score has no rank)')
    if labels.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Primary key class, then score descending, then arrival.
    ranked = np.lexsort((order, -scores, labels))
    sorted_labels = labels[ranked]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] !=
                                  sorted_labels[:-1]])
    lengths = np.diff(np.r_[starts, len(ranked)])
    rank_in_class = np.arange(len(ranked)) - np.repeat(starts, lengths)
    return np.sort(ranked[rank_in_class < max_per_class]).astype(np.int64)


Columns = Dict[str, np.ndarray]


def _take(columns: Columns, indices: np.ndarray) -> Columns:
    return {key: value[indices] for key, value in columns.items()}


def _concatenate(chunks: List[Columns]) -> Columns:
    return {key: np.concatenate([chunk[key] for chunk in chunks])
            for key in chunks[0]}


class ClassTopK:
    """Running top-``K`` detections of every class.

    Detections arrive as *columns*: a dict of arrays with one row per
    detection, holding at least ``labels`` (int), ``scores`` and ``order``
    (int tie key, arrival order) and any payload (boxes, an object array of
    RLE masks, image ids), which is carried along.

    Memory: a detection is stored only if it beats its class's ``K``-th best
    score as of the last compaction (the *floor*); candidates are merged
    into the kept set (:func:`top_k_per_class`) once they outnumber the kept
    detections (or ``min_buffer``), so the state never holds more than
    ``2 x K x classes + min_buffer`` rows plus one batch, and after
    :meth:`compact` at most ``K`` per class. The result equals
    :func:`top_k_per_class` on all detections ever added.

    Args:
        max_per_class: ``K``, positive.
        min_buffer: candidates held before a compaction even while few
            detections are kept (a compaction sorts the whole state).
    """

    def __init__(self, max_per_class: int, min_buffer: int = 1 << 16) -> None:
        self.max_per_class = check_max_dets_per_class(max_per_class)
        self.min_buffer = int(min_buffer)
        self._kept: Optional[Columns] = None
        self._pending: List[Columns] = []
        self._num_pending = 0
        self._floor = np.full(0, -np.inf)

    def __len__(self) -> int:
        kept = 0 if self._kept is None else len(self._kept['labels'])
        return kept + self._num_pending

    def floor(self, labels: np.ndarray) -> np.ndarray:
        """The score a detection of each label must exceed to be stored:
        the label's ``K``-th best kept score, ``-inf`` while it has fewer
        (a later detection with an equal score loses the tie)."""
        labels = np.asarray(labels, dtype=np.int64)
        floor = np.full(len(labels), -np.inf)
        known = labels < len(self._floor)
        floor[known] = self._floor[labels[known]]
        return floor

    def add(self, columns: Columns) -> None:
        """Store the rows of ``columns`` that can still be in the top ``K``.

        Rows must arrive in ascending ``order`` across calls (later
        detections lose ties), as they do from a data loader.
        """
        labels = np.asarray(columns['labels'], dtype=np.int64)
        if labels.size and labels.min() < 0:
            raise ValueError(f'labels must be non-negative, got '
                             f'{labels.min()}')
        candidates = np.asarray(columns['scores']) > self.floor(labels)
        if not candidates.any():
            return
        self._pending.append(_take(columns, np.flatnonzero(candidates)))
        self._num_pending += int(candidates.sum())
        kept = 0 if self._kept is None else len(self._kept['labels'])
        if self._num_pending >= max(kept, self.min_buffer):
            self.compact()

    def compact(self) -> None:
        """Merge the candidates into the kept set: at most ``K`` per class."""
        if not self._pending:
            return
        chunks = ([] if self._kept is None else [self._kept]) + self._pending
        merged = _concatenate(chunks)
        self._pending, self._num_pending = [], 0
        self._kept = _take(merged, top_k_per_class(
            merged['labels'], merged['scores'], self.max_per_class,
            merged['order']))
        self._update_floor()

    def _update_floor(self) -> None:
        labels = self._kept['labels'].astype(np.int64)
        size = int(labels.max()) + 1 if labels.size else 0
        self._floor = np.full(max(size, len(self._floor)), -np.inf)
        counts = np.bincount(labels, minlength=size)
        full = np.flatnonzero(counts >= self.max_per_class)
        if full.size:
            scores = np.asarray(self._kept['scores'], dtype=np.float64)
            # The smallest kept score of each full class.
            minimum = np.full(size, np.inf)
            np.minimum.at(minimum, labels, scores)
            self._floor[full] = minimum[full]

    def result(self) -> Optional[Columns]:
        """The kept detections (at most ``K`` per class), sorted by
        ``order``; None if nothing was added."""
        self.compact()
        if self._kept is None:
            return None
        return _take(self._kept, np.argsort(self._kept['order'],
                                            kind='stable'))

    @classmethod
    def merged(cls, parts: List[Optional[Columns]],
               max_per_class: int) -> Optional[Columns]:
        """The top ``K`` per class of several results (e.g. one per rank),
        sorted by ``order``; None if all are empty."""
        merger = cls(max_per_class)
        parts = [part for part in parts
                 if part is not None and len(part['labels'])]
        if not parts:
            return None
        merger._pending, merger._num_pending = parts, 1
        return merger.result()
