"""AP per training-instance-count bin, from an evaluator's precision array.

The BAGS paper reports, besides LVIS's AP/APr/APc/APf, the AP of the
categories grouped by their number of *training instances*: with the default
edges ``(10, 100, 1000)`` the bins are ``[0, 10)``, ``[10, 100)``,
``[100, 1000)`` and ``[1000, inf)`` (AP1..AP4). LVIS's own r/c/f split counts
training *images*, so it is a different grouping.

These are the pure parts, shared by the metrics
(:class:`~mmdet_bags.evaluation.PerBinLVISMetric`,
:class:`~mmdet_bags.evaluation.PerBinCocoMetric`) and by
:func:`~mmdet_bags.evaluation.evaluate_ap_fixed`. Binning follows
:class:`mmdet_bags.grouping.GroupLayout` (a class with ``n`` training
instances is in bin ``bisect_right(bin_edges, n)``), except that bins are
reported by *bin*, never by group: the layout drops empty bins, while
``AP{i}`` is always the ``i``-th interval of ``bin_edges``.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..grouping import bin_of_count

#: Value reported for a bin whose AP does not exist: no evaluated category
#: falls in the bin, or none of its categories has ground truth in the
#: evaluated images. It is LVIS's own "no value" convention (``LVISEval``
#: reports APr = -1 when no rare category can be evaluated), so downstream
#: tools treat both the same way; a real AP is never negative.
EMPTY_BIN_AP: float = -1.0


def bin_of_instance_count(instance_count: int,
                          bin_edges: Sequence[int]) -> int:
    """Bin index of a class with ``instance_count`` training instances.

    The rule of :class:`~mmdet_bags.grouping.GroupLayout`
    (:func:`~mmdet_bags.grouping.bin_of_count`): a count equal to an edge
    belongs to the bin that starts at that edge.
    """
    return bin_of_count(instance_count, bin_edges)


def bin_count_ranges(
        bin_edges: Sequence[int]) -> List[Tuple[int, Optional[int]]]:
    """The training-instance interval ``[low, high)`` of every bin.

    ``high`` is None for the last, open bin. With ``(10, 100, 1000)``:
    ``[(0, 10), (10, 100), (100, 1000), (1000, None)]``.
    """
    lows = (0, ) + tuple(bin_edges)
    highs = tuple(bin_edges) + (None, )
    return list(zip(lows, highs))


def per_category_average_precision(precision: np.ndarray,
                                   area_index: int = 0) -> np.ndarray:
    """AP of every category from an ``LVISEval.eval['precision']`` array.

    LVIS stores interpolated precision with shape ``(iou_thresholds,
    recall_thresholds, categories, area_ranges)`` and ``-1`` where a
    category has no ground truth. A category's AP is the mean of its valid
    (``> -1``) entries over all IoU thresholds (.50:.95) and the 101 recall
    thresholds, exactly the entries ``LVISEval.summarize`` pools for AP (and
    MMDetection's ``classwise`` table averages).

    Args:
        precision: the 4-d precision array.
        area_index: index of the area range; 0 is LVIS's ``'all'``.

    Returns:
        np.ndarray: float array ``(categories,)``; NaN for a category without
        any valid entry (no ground truth in the evaluated images), which LVIS
        leaves out of every average.
    """
    precision = np.asarray(precision)
    if precision.ndim != 4:
        raise ValueError(
            'precision must be LVISEval.eval["precision"] with shape '
            '(iou_thresholds, recall_thresholds, categories, area_ranges), '
            f'got shape {precision.shape}')
    num_categories = precision.shape[2]
    average_precision = np.full(num_categories, np.nan)
    for index in range(num_categories):
        values = precision[:, :, index, area_index]
        values = values[values > -1]
        if values.size:
            average_precision[index] = np.mean(values)
    return average_precision


def per_bin_details(precision: np.ndarray, category_ids: Sequence[int],
                    bin_of_category: Dict[int, int], num_bins: int,
                    area_index: int = 0) -> List[Tuple[float, int, int]]:
    """``(AP, #categories, #categories with an AP)`` of every bin.

    Arguments and errors as :func:`per_bin_average_precision`.
    """
    category_ids = list(category_ids)
    precision = np.asarray(precision)
    if precision.ndim == 4 and precision.shape[2] != len(category_ids):
        raise ValueError(
            f'precision holds {precision.shape[2]} categories but '
            f'{len(category_ids)} category ids were given')
    missing = [category_id for category_id in category_ids
               if category_id not in bin_of_category]
    if missing:
        raise ValueError(
            f'no bin for evaluated category ids {missing[:20]}'
            f'{" ..." if len(missing) > 20 else ""} ({len(missing)} of '
            f'{len(category_ids)})')
    out_of_range = {category_id: bin_of_category[category_id]
                    for category_id in category_ids
                    if not 0 <= bin_of_category[category_id] < num_bins}
    if out_of_range:
        raise ValueError(f'bins must lie in 0..{num_bins - 1}, got '
                         f'{dict(list(out_of_range.items())[:10])}')

    average_precision = per_category_average_precision(precision, area_index)
    details = []
    for bin_index in range(num_bins):
        members = [index for index, category_id in enumerate(category_ids)
                   if bin_of_category[category_id] == bin_index]
        valid = [average_precision[index] for index in members
                 if not math.isnan(average_precision[index])]
        value = float(np.mean(valid)) if valid else EMPTY_BIN_AP
        details.append((value, len(members), len(valid)))
    return details


def per_bin_average_precision(precision: np.ndarray,
                              category_ids: Sequence[int],
                              bin_of_category: Dict[int, int],
                              num_bins: Optional[int] = None,
                              area_index: int = 0) -> List[float]:
    """Mean per-category AP of every instance-count bin.

    Args:
        precision: ``LVISEval.eval['precision']``, shape ``(iou_thresholds,
            recall_thresholds, categories, area_ranges)``, ``-1`` where a
            category has no ground truth.
        category_ids: category id of each index of the category axis
            (``LVISEval.params.cat_ids``).
        bin_of_category: category id -> bin index.
        num_bins: number of bins reported; default one more than the largest
            bin in ``bin_of_category`` (pass ``len(bin_edges) + 1`` so that
            trailing empty bins are reported too).
        area_index: area range index; 0 is LVIS's ``'all'``.

    Returns:
        list[float]: ``num_bins`` values. Bin ``i`` is the mean AP (see
        :func:`per_category_average_precision`) of its categories that have
        an AP; categories without ground truth are left out, as LVIS does.
        :data:`EMPTY_BIN_AP` (-1) for a bin with no such category.

    Raises:
        ValueError: a category id has no bin, a bin is out of range, or the
            shapes disagree.
    """
    if num_bins is None:
        num_bins = max(bin_of_category.values(), default=-1) + 1
    return [value for value, _, _ in per_bin_details(
        precision, category_ids, bin_of_category, num_bins, area_index)]
