"""Pooled AP (Dave et al., 2021): AP over the detections of a *pool* of
classes ranked together, so that it depends on how scores compare across
classes (calibration), unlike per-class AP.

The definition is the one of the authors' ``LVISPooledEval`` and
``scripts/evaluate_ap_pooled.py`` (achalddave/large-vocab-devil):

* the same top-``K``-per-class selection, no per-image cap and, for
  ``segm``, no ``bbox`` field as Fixed AP (:mod:`.fixed_ap`);
* LVIS's per-image, per-class matching unchanged (so the federated rules
  still decide which detections count);
* only area range ``'all'``;
* per pool (all classes, and LVIS's rare / common / frequent classes), the
  per-image matches of all its classes are concatenated (image by image,
  classes in LVIS order within an image), sorted by score (stable), and
  turned into one interpolated precision / recall curve exactly as LVIS
  does for one class; the pool's AP is the mean over IoU and recall
  thresholds.

Our addition: with training counts, ``AP1..AP{k}`` pool the classes of each
training-instance bin the same way.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..grouping import DEFAULT_BIN_EDGES
from .class_top_k import check_max_dets_per_class
from .fixed_ap import (IOU_TYPES, GroundTruth, InstanceCounts,
                       bins_of_category_ids, check_results, load_lvis,
                       load_results, run_lvis_eval_without_cap,
                       select_top_k_per_class)


def pooled_precision(evaluations: List[dict], recall_thresholds: np.ndarray
                     ) -> Optional[np.ndarray]:
    """Interpolated precision at each recall threshold of one pool.

    Args:
        evaluations: ``LVISEval.evaluate_img`` results (not None) of the
            pool, in the order their detections are concatenated.
        recall_thresholds: ``(R,)`` ascending.

    Returns:
        np.ndarray: ``(T, R)`` for T IoU thresholds, or None when the pool
        has no ground truth that counts (LVIS leaves -1 there).
    """
    scores = np.concatenate([e['dt_scores'] for e in evaluations])
    ranked = np.argsort(-scores, kind='mergesort')
    matched = np.concatenate([e['dt_matches'] for e in evaluations],
                             axis=1)[:, ranked] != 0
    ignored = np.concatenate([e['dt_ignore'] for e in evaluations],
                             axis=1)[:, ranked] != 0
    num_gt = int(np.count_nonzero(
        np.concatenate([e['gt_ignore'] for e in evaluations]) == 0))
    if num_gt == 0:
        return None
    true_positives = np.cumsum(matched & ~ignored, axis=1, dtype=float)
    false_positives = np.cumsum(~matched & ~ignored, axis=1, dtype=float)
    recall = true_positives / num_gt
    precision = true_positives / (true_positives + false_positives +
                                  np.spacing(1))
    # Each precision becomes the best precision at any higher recall.
    precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
    result = np.zeros((len(recall), len(recall_thresholds)))
    for threshold_index, (recall_row, precision_row) in enumerate(
            zip(recall, precision)):
        positions = np.searchsorted(recall_row, recall_thresholds,
                                    side='left')
        reached = positions < len(recall_row)
        result[threshold_index, reached] = precision_row[positions[reached]]
    return result


def pooled_ap_of(lvis_eval, pools: Dict[str, Sequence[int]]
                 ) -> Dict[str, float]:
    """Pooled AP of each pool of an evaluated ``LVISEval``.

    Args:
        lvis_eval: an ``LVISEval`` after ``evaluate()``.
        pools: name -> indices into ``lvis_eval.params.cat_ids``.

    Returns:
        dict: name -> AP (-1 for a pool without ground truth).
    """
    params = lvis_eval.params
    area_index = params.area_rng_lbl.index('all')
    num_areas, num_images = len(params.area_rng), len(params.img_ids)
    results = {}
    for name, category_indices in pools.items():
        evaluations = [
            lvis_eval.eval_imgs[(category * num_areas + area_index) *
                                num_images + image]
            for image in range(num_images) for category in category_indices
        ]
        evaluations = [e for e in evaluations if e is not None]
        precision = None if not evaluations else pooled_precision(
            evaluations, params.rec_thrs)
        results[name] = -1.0 if precision is None else float(
            np.mean(precision))
    return results


def _evaluated_without_accumulating(lvis_gt, results, iou_type):

    from lvis import LVISEval

    class AreaAllOnly(LVISEval):
        """LVISEval on area 'all' only; ``run`` matches and stops."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            index = self.params.area_rng_lbl.index('all')
            self.params.area_rng = [self.params.area_rng[index]]
            self.params.area_rng_lbl = ['all']

        def run(self) -> None:
            self.evaluate()

    return run_lvis_eval_without_cap(lvis_gt, results, iou_type,
                                     eval_class=AreaAllOnly)


def evaluate_ap_pooled(gt: GroundTruth,
                       results: Union[str, List[dict]],
                       iou_type: str = 'bbox',
                       max_dets_per_class: int = 10000,
                       instance_counts: Optional[InstanceCounts] = None,
                       bin_edges: Sequence[int] = DEFAULT_BIN_EDGES
                       ) -> Dict[str, float]:
    """Pooled AP of LVIS results, as the authors' script computes it.

    Args:
        gt, results, iou_type, max_dets_per_class, instance_counts,
            bin_edges: as :func:`~mmdet_bags.evaluation.evaluate_ap_fixed`.

    Returns:
        dict: ``AP`` (all classes pooled), ``APr``, ``APc``, ``APf`` (the
        classes of each LVIS frequency pooled), as fractions, -1 for a pool
        without ground truth; plus ``AP1..AP{k}`` (classes of each
        training-instance bin pooled) when ``instance_counts`` is given.

    Raises:
        ValueError: as :func:`~mmdet_bags.evaluation.evaluate_ap_fixed`.
    """
    max_dets_per_class = check_max_dets_per_class(max_dets_per_class)
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got "
                         f'{iou_type!r}')
    lvis_gt = load_lvis(gt)
    results = load_results(results)
    check_results(results, lvis_gt, iou_type)
    category_ids = sorted(lvis_gt.get_cat_ids())
    bin_of_category = None
    if instance_counts is not None:
        bin_of_category = bins_of_category_ids(category_ids,
                                               instance_counts, bin_edges)
    selected = select_top_k_per_class(results, max_dets_per_class, iou_type)
    lvis_eval = _evaluated_without_accumulating(lvis_gt, selected, iou_type)
    frequencies = [lvis_gt.cats[cid]['frequency']
                   for cid in lvis_eval.params.cat_ids]
    pools = {'AP': list(range(len(frequencies)))}
    for letter in ('r', 'c', 'f'):
        pools[f'AP{letter}'] = [index for index, frequency in
                                enumerate(frequencies) if frequency == letter]
    if bin_of_category is not None:
        for bin_index in range(len(bin_edges) + 1):
            pools[f'AP{bin_index + 1}'] = [
                index for index, cid in enumerate(lvis_eval.params.cat_ids)
                if bin_of_category[cid] == bin_index]
    return pooled_ap_of(lvis_eval, pools)
