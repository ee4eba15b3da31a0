"""Fixed AP (Dave et al., "Evaluating Large-Vocabulary Object Detectors: The
Devil is in the Details", 2021).

Standard LVIS AP keeps each image's 300 best detections over all classes, so
re-ranking scores *across* classes changes AP without detecting anything
better. Fixed AP removes that coupling: every class keeps its ``K`` (10,000
for LVIS) highest-scored detections over the whole dataset, with no
per-image limit, and LVIS's federated evaluation runs with no per-image cap.

The protocol is the one of the authors' ``scripts/evaluate_ap_fixed.py``
(achalddave/large-vocab-devil):

1. per class, the ``K`` best detections by score (ties: first in the results
   wins; :func:`~mmdet_bags.evaluation.class_top_k.top_k_per_class`);
2. for ``segm``, the ``bbox`` field of every result is dropped, so that LVIS
   takes areas from the masks;
3. ``LVISResults(gt, results, max_dets=-1)`` and ``LVISEval`` with
   ``params.max_dets = -1``.
"""
import json
import logging
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log

from ..grouping import DEFAULT_BIN_EDGES, bin_of_count, validate_bin_edges
from .class_top_k import check_max_dets_per_class, top_k_per_class
from .per_bin import per_bin_average_precision

#: The summary keys of a Fixed AP evaluation (fractions, as LVIS reports).
FIXED_AP_KEYS = ('AP', 'AP50', 'AP75', 'APr', 'APc', 'APf')
IOU_TYPES = ('bbox', 'segm')

GroundTruth = Union[str, 'lvis.LVIS']  # noqa: F821
InstanceCounts = Union[Mapping[int, int], Sequence[int]]


def load_lvis(gt: GroundTruth):
    """An ``lvis.LVIS`` from a path or as given."""
    from lvis import LVIS
    if isinstance(gt, LVIS):
        return gt
    if not isinstance(gt, str):
        raise TypeError('gt must be an LVIS annotation file path or an '
                        f'lvis.LVIS, got {type(gt).__name__}')
    return LVIS(gt)


def check_results(results: List[dict], lvis_gt, iou_type: str,
                  what: str = 'results') -> None:
    """Raise a ValueError naming what is wrong with LVIS result dicts:
    empty, missing keys, NaN scores, or image / category ids that are not
    in the annotation file."""
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got "
                         f'{iou_type!r}')
    if not isinstance(results, list):
        raise TypeError(f'{what} must be a list of LVIS result dicts or a '
                        f'path to a JSON file of them, got '
                        f'{type(results).__name__}')
    if not results:
        raise ValueError(f'{what} are empty: Fixed AP needs detections '
                         '(dicts with image_id, category_id, score and '
                         f'{"bbox" if iou_type == "bbox" else "segmentation"}'
                         ')')
    needed = {'image_id', 'category_id', 'score',
              'bbox' if iou_type == 'bbox' else 'segmentation'}
    for index, result in enumerate(results):
        if not isinstance(result, dict) or not needed <= set(result):
            missing = sorted(needed - set(result)) if isinstance(
                result, dict) else sorted(needed)
            raise ValueError(f'{what}[{index}] lacks {missing}: each result '
                             f'needs {sorted(needed)} for {iou_type!r}')
    scores = np.array([result['score'] for result in results], dtype=float)
    if np.isnan(scores).any():
        raise ValueError(f'{what} hold NaN scores (first at index '
                         f'{int(np.flatnonzero(np.isnan(scores))[0])})')
    for key, known, name in (
            ('category_id', lvis_gt.get_cat_ids(), 'categories'),
            ('image_id', lvis_gt.get_img_ids(), 'images')):
        unknown = sorted({result[key] for result in results} - set(known))
        if unknown:
            raise ValueError(
                f'{what} name {len(unknown)} {key}s that are not in the '
                f'annotation file\'s {name}: {unknown[:10]}'
                f'{" ..." if len(unknown) > 10 else ""}')


def select_top_k_per_class(results: List[dict], max_dets_per_class: int,
                           iou_type: str) -> List[dict]:
    """Steps 1 and 2 of the protocol: the results each class keeps, as new
    dicts in their original order (the input is not modified)."""
    kept = top_k_per_class(
        np.array([result['category_id'] for result in results]),
        np.array([result['score'] for result in results], dtype=float),
        max_dets_per_class)
    selected = []
    for index in kept:
        result = dict(results[index])
        if iou_type == 'segm':
            result.pop('bbox', None)
        selected.append(result)
    return selected


def run_lvis_eval_without_cap(lvis_gt, results: List[dict], iou_type: str,
                              eval_class=None):
    """Step 3: LVIS's evaluation (or ``eval_class``) over ``results`` with no
    per-image limit, evaluated, accumulated and summarised.

    The default evaluator is :class:`~.chunked_lvis_eval.ChunkedLVISEval`:
    LVIS's results, with the memory of
    :data:`~.chunked_lvis_eval.CATEGORIES_PER_CHUNK` categories at a time.
    ``results`` are consumed: LVIS adds ``id``/``area`` to the dicts.
    """
    from lvis import LVISResults

    from . import chunked_lvis_eval
    lvis_dt = LVISResults(lvis_gt, results, max_dets=-1)
    if eval_class is None:
        lvis_eval = chunked_lvis_eval.ChunkedLVISEval(lvis_gt, lvis_dt,
                                                      iou_type)
    else:
        lvis_eval = eval_class(lvis_gt, lvis_dt, iou_type)
    lvis_eval.params.max_dets = -1  # no limit on detections per image
    lvis_eval.run()
    return lvis_eval


def bins_of_category_ids(category_ids: Sequence[int],
                         instance_counts: InstanceCounts,
                         bin_edges: Sequence[int]) -> Dict[int, int]:
    """Bin of every category id from its training-instance count.

    Args:
        category_ids: the evaluated category ids, ascending (LVIS's order).
        instance_counts: category id -> count, or one count per id of
            ``category_ids`` in that order.
        bin_edges: positive, strictly ascending.

    Raises:
        ValueError: a category without a count, or a count list of the
            wrong length.
    """
    edges = validate_bin_edges(bin_edges)
    if isinstance(instance_counts, Mapping):
        counts = dict(instance_counts)
    else:
        instance_counts = list(instance_counts)
        if len(instance_counts) != len(category_ids):
            raise ValueError(
                f'instance_counts holds {len(instance_counts)} counts but '
                f'the annotation file has {len(category_ids)} categories; '
                'give one count per category id (ascending) or a dict')
        counts = dict(zip(category_ids, instance_counts))
    missing = [cid for cid in category_ids if cid not in counts]
    if missing:
        raise ValueError(f'instance_counts has no count for category ids '
                         f'{missing[:20]} ({len(missing)} categories)')
    return {cid: bin_of_count(counts[cid], edges) for cid in category_ids}


def summarize_eval(lvis_eval, keys: Sequence[str] = FIXED_AP_KEYS,
                   bin_of_category: Optional[Dict[int, int]] = None,
                   num_bins: int = 0) -> Dict[str, float]:
    """``keys`` of an evaluated ``LVISEval`` plus ``AP1..AP{num_bins}`` from
    its precision array (when ``bin_of_category`` is given)."""
    summary = {key: float(lvis_eval.results[key]) for key in keys}
    if bin_of_category is not None:
        area_index = lvis_eval.params.area_rng_lbl.index('all')
        per_bin = per_bin_average_precision(
            lvis_eval.eval['precision'], lvis_eval.params.cat_ids,
            bin_of_category, num_bins, area_index)
        summary.update({f'AP{i}': value
                        for i, value in enumerate(per_bin, start=1)})
    return summary


def load_results(results: Union[str, List[dict]]) -> List[dict]:
    """Result dicts from a JSON file path, or the list as given."""
    if isinstance(results, str):
        with open(results) as file:
            return json.load(file)
    return results


def warn_if_classes_lack_detections(classes: Sequence[int],
                                    max_dets_per_class: int) -> None:
    """Log, as the authors' script does, how many classes have fewer than
    ``K`` detections (``classes``: the class of each kept detection): Fixed
    AP is then lower than the model allows."""
    counts = np.unique(np.asarray(classes), return_counts=True)[1]
    short = int((counts < max_dets_per_class).sum())
    if short:
        print_log(
            f'Fixed AP: {short} of {len(counts)} detected classes have fewer '
            f'than {max_dets_per_class} detections; inference that lets '
            'every class reach K detections (low score threshold, large '
            'per-image limit) raises Fixed AP', logger='current',
            level=logging.WARNING)


def evaluate_ap_fixed(gt: GroundTruth,
                      results: Union[str, List[dict]],
                      iou_type: str = 'bbox',
                      max_dets_per_class: int = 10000,
                      instance_counts: Optional[InstanceCounts] = None,
                      bin_edges: Sequence[int] = DEFAULT_BIN_EDGES
                      ) -> Dict[str, float]:
    """Fixed AP of LVIS results, exactly as the authors' script computes it.

    Args:
        gt: an LVIS-format annotation file path or an ``lvis.LVIS``.
        results: a JSON file path or a list of LVIS result dicts
            (``image_id``, ``category_id``, ``score`` and ``bbox`` ``[x, y,
            w, h]`` or ``segmentation`` as RLE). A list is not modified.
        iou_type: ``'bbox'`` or ``'segm'``.
        max_dets_per_class: ``K``, the detections each class keeps.
        instance_counts: training instances per category (category id ->
            count, or one count per category id in ascending order); with it
            the result also holds ``AP1..AP{k}`` per training-instance bin.
        bin_edges: edges of those bins (the BAGS paper's by default).

    Returns:
        dict: ``AP``, ``AP50``, ``AP75``, ``APr``, ``APc``, ``APf`` as
        fractions (-1 where LVIS has no value), plus ``AP1..AP{k}`` (-1 for a
        bin without an evaluated category) when ``instance_counts`` is
        given.

    Raises:
        ValueError: ``K`` not a positive integer, an unknown ``iou_type``,
            empty results, results lacking keys, or naming categories or
            images that are not in the annotation file.
    """
    max_dets_per_class = check_max_dets_per_class(max_dets_per_class)
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be 'bbox' or 'segm', got "
                         f'{iou_type!r}')
    lvis_gt = load_lvis(gt)
    results = load_results(results)
    check_results(results, lvis_gt, iou_type)
    bin_of_category = None
    if instance_counts is not None:
        bin_of_category = bins_of_category_ids(
            sorted(lvis_gt.get_cat_ids()), instance_counts, bin_edges)
    warn_if_classes_lack_detections([r['category_id'] for r in results],
                                    max_dets_per_class)
    selected = select_top_k_per_class(results, max_dets_per_class, iou_type)
    lvis_eval = run_lvis_eval_without_cap(lvis_gt, selected, iou_type)
    return summarize_eval(lvis_eval, FIXED_AP_KEYS, bin_of_category,
                          len(bin_edges) + 1)
