"""LVIS evaluation whose memory is bounded by a chunk of categories."""
from collections import defaultdict
from typing import Optional

import numpy as np
from lvis import LVISEval

#: Categories evaluated at once by :class:`ChunkedLVISEval` by default.
CATEGORIES_PER_CHUNK = 100


class ChunkedLVISEval(LVISEval):
    """``lvis.LVISEval`` that evaluates and accumulates a chunk of categories
    at a time; the same results.

    LVIS's ``evaluate`` keeps the IoU matrix and the matching result of every
    (image, category, area range) until ``accumulate``: on LVIS v1's 20,000
    validation images with 100 detections per image that passed 16 GiB in
    our measurement (README, "Fixed AP"). A category's precision and recall
    depend only on its own ground truth and detections (the federated rules
    are per image and category, the per-image detection cap is applied when
    the results are loaded), so they are computed ``categories_per_chunk``
    categories at a time, with LVIS's own ``evaluate`` and ``accumulate``,
    and joined along the category axis. ``summarize`` (LVIS's) then reads
    the whole arrays. Only the per-chunk state is held at any time.

    ``accumulate`` after ``evaluate`` does nothing: it already happened, per
    chunk. ``eval_imgs`` and ``ious`` are released after each chunk (they
    hold the last chunk's only, if anything); ``eval['dt_pointers']`` is
    kept for every category, indexed as in ``LVISEval``.

    Args:
        lvis_gt, lvis_dt, iou_type: as ``LVISEval``.
        categories_per_chunk: positive (default
            :data:`CATEGORIES_PER_CHUNK`); the memory of one evaluation is
            about that fraction of LVIS's.
    """

    def __init__(self, lvis_gt, lvis_dt, iou_type: str = 'segm',
                 categories_per_chunk: Optional[int] = None) -> None:
        if categories_per_chunk is None:
            categories_per_chunk = CATEGORIES_PER_CHUNK
        if isinstance(categories_per_chunk, bool) or not isinstance(
                categories_per_chunk, (int, np.integer)) or \
                categories_per_chunk < 1:
            raise ValueError('categories_per_chunk must be a positive '
                             f'integer, got {categories_per_chunk!r}')
        super().__init__(lvis_gt, lvis_dt, iou_type)
        self.categories_per_chunk = int(categories_per_chunk)
        self._accumulated_in_evaluate = False

    def evaluate(self) -> None:
        self._accumulated_in_evaluate = False
        cat_ids = list(self.params.cat_ids)
        if not self.params.use_cats or not cat_ids:  # nothing to split
            return super().evaluate()
        step = self.categories_per_chunk
        precisions, recalls, pointers = [], [], {}
        try:
            for start in range(0, len(cat_ids), step):
                self.params.cat_ids = cat_ids[start:start + step]
                self._gts, self._dts = defaultdict(list), defaultdict(list)
                super().evaluate()
                super().accumulate()
                precisions.append(self.eval['precision'])
                recalls.append(self.eval['recall'])
                for index, pointer in self.eval['dt_pointers'].items():
                    pointers[start + index] = pointer
                self.eval_imgs, self.ious = [], {}
        finally:
            self.params.cat_ids = cat_ids
            self._gts, self._dts = defaultdict(list), defaultdict(list)
        self.freq_groups = self._prepare_freq_group()
        precision = np.concatenate(precisions, axis=2)
        self.eval = dict(
            self.eval, params=self.params, counts=list(precision.shape),
            precision=precision, recall=np.concatenate(recalls, axis=1),
            dt_pointers=pointers)
        self._accumulated_in_evaluate = True

    def accumulate(self) -> None:
        if not self._accumulated_in_evaluate:
            super().accumulate()
