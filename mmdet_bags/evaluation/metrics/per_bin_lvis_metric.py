"""LVIS evaluation with the BAGS paper's AP per training-instance-count bin.

The BAGS paper reports, besides LVIS's AP/APr/APc/APf, the AP of the
categories grouped by their number of *training instances*: with the default
edges ``(10, 100, 1000)`` the bins are ``[0, 10)``, ``[10, 100)``,
``[100, 1000)`` and ``[1000, inf)`` (AP1..AP4). LVIS's own r/c/f split counts
training *images*, so it is a different grouping.

:class:`PerBinLVISMetric` is MMDetection's
:class:`~mmdet.evaluation.LVISMetric` plus these keys. It does not
re-implement the LVIS evaluation: it runs the parent's ``compute_metrics``
while recording the ``LVISEval`` objects that method creates, and averages
the per-category AP of each bin from the very precision arrays LVIS
summarises into AP.

Binning follows :class:`mmdet_bags.grouping.GroupLayout` (a class with ``n``
training instances is in bin ``bisect_right(bin_edges, n)``), except that
bins are reported by *bin*, never by group: the layout drops empty bins,
while ``AP{i}`` is always the ``i``-th interval of ``bin_edges``.
"""
import contextlib
import dataclasses
import math
import threading
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from mmdet.evaluation import LVISMetric
from mmdet.evaluation.metrics import lvis_metric as mmdet_lvis_metric_module
from mmdet.registry import METRICS

from ...grouping import (BUILTIN_TABLES, DEFAULT_BIN_EDGES, GroupLayout,
                         bin_of_count, count_instances_in_annotation_file,
                         load_builtin_table, validate_bin_edges)

#: Value reported for a bin whose AP does not exist: no evaluated category
#: falls in the bin, or none of its categories has ground truth in the
#: evaluated images. It is LVIS's own "no value" convention (``LVISEval``
#: reports APr = -1 when no rare category can be evaluated), so downstream
#: tools treat both the same way; a real AP is never negative.
EMPTY_BIN_AP: float = -1.0

# Keys LVISMetric already writes for a metric type; a per-bin key must never
# shadow one of them (only possible with 50 or more bins).
_STANDARD_AP_ITEMS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc',
                      'APf')

# Serialises the temporary replacement of ``LVISEval`` in MMDetection's
# module (see :func:`_recording_instances`).
_LVIS_EVAL_PATCH_LOCK = threading.Lock()


# ----------------------------------------------------------------- pure parts
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


def _per_bin_details(precision: np.ndarray, category_ids: Sequence[int],
                     bin_of_category: Dict[int, int], num_bins: int,
                     area_index: int) -> List[Tuple[float, int, int]]:
    """``(AP, #categories, #categories with an AP)`` of every bin."""
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
    return [value for value, _, _ in _per_bin_details(
        precision, category_ids, bin_of_category, num_bins, area_index)]


# ------------------------------------------------------- capturing LVISEval
@contextlib.contextmanager
def _recording_instances(module, names: Sequence[str]) -> Iterator[list]:
    """Record every instance of the classes ``module.<name>`` (for each of
    ``names``) created while the ``with`` block runs.

    MMDetection's metrics look their evaluator class (``LVISEval``,
    ``COCOeval``) up in their module's namespace each time they evaluate, so
    the name is replaced there, for the duration of the block only, by a
    subclass that behaves identically and appends each new instance to the
    yielded list. The originals are restored in a ``finally`` clause, so an
    evaluation that raises leaves nothing patched.

    Concurrency: the replacement is process-global. A lock serialises the
    blocks (two threads evaluating a per-bin metric at once take turns), and
    only instances created by the thread that opened the block are recorded,
    so a plain metric evaluated meanwhile in another thread merely uses the
    identical subclass and is not captured. Processes do not share the
    patch: MMEngine evaluates in one process, and under DDP only rank 0
    calls ``compute_metrics`` (the others receive the broadcast result).
    """
    with _LVIS_EVAL_PATCH_LOCK:
        originals = {name: getattr(module, name) for name in names}
        recorded: list = []
        owner_thread = threading.get_ident()

        def recording_subclass(original):

            class Recording(original):  # type: ignore[misc, valid-type]

                def __init__(self, *args, **kwargs) -> None:
                    super().__init__(*args, **kwargs)
                    if threading.get_ident() == owner_thread:
                        recorded.append(self)

            Recording.__name__ = f'Recording{original.__name__}'
            return Recording

        for name, original in originals.items():
            setattr(module, name, recording_subclass(original))
        try:
            yield recorded
        finally:
            for name, original in originals.items():
                setattr(module, name, original)


# --------------------------------------------------------------------- metric
CountsSpec = Union[str, dict]


class PerBinMixin:
    """The per-bin part shared by :class:`PerBinLVISMetric` and
    :class:`~mmdet_bags.evaluation.PerBinCocoMetric`: training counts, the
    bin of each category and the per-bin AP table.

    A subclass names the module where its MMDetection parent looks up its
    evaluator class (``_evaluator_module``, ``_evaluator_names``) and reads
    one accumulated evaluator (``_read_evaluator``)."""

    def _setup_per_bin(self, train_ann_file: Optional[str],
                       groups: Optional[CountsSpec],
                       bin_edges: Optional[Sequence[int]],
                       backend_args: Optional[dict]) -> None:
        """Resolve the training counts and bin edges (see the metrics'
        ``Args``)."""
        self.bin_edges, self._counts_by_category_id, \
            self._counts_in_label_order, self.counts_source = \
            self._resolve_training_counts(train_ann_file, groups, bin_edges,
                                          backend_args)
        self.num_bins = len(self.bin_edges) + 1
        shadowed = [f'AP{i}' for i in range(1, self.num_bins + 1)
                    if f'AP{i}' in _STANDARD_AP_ITEMS]
        if shadowed:
            raise ValueError(
                f'{self.num_bins} bins would name per-bin keys {shadowed} '
                'like the standard AP50/AP75; use fewer than 50 bins')

    # -------------------------------------------------------------- counts
    @staticmethod
    def _resolve_training_counts(
            train_ann_file: Optional[str], groups: Optional[CountsSpec],
            bin_edges: Optional[Sequence[int]], backend_args: Optional[dict]
    ) -> Tuple[Tuple[int, ...], Optional[Dict[int, int]],
               Optional[Tuple[int, ...]], str]:
        """Bin edges, and counts by category id or in label order."""
        if (train_ann_file is None) == (groups is None):
            raise ValueError(
                'a per-bin metric needs the training instance counts from '
                'exactly one of train_ann_file=PATH or groups=... '
                f'(got train_ann_file={train_ann_file!r}, groups={groups!r})')
        spec_edges = None
        if groups is not None and not isinstance(groups, str):
            if not isinstance(groups, dict) or not (
                    set(groups) - {'bin_edges'} in ({'instance_counts'},
                                                     {'ann_file'})):
                raise ValueError(
                    'groups must be a built-in name '
                    f'({", ".join(repr(name) for name in BUILTIN_TABLES)}), '
                    'dict(instance_counts=[...]) in label order or '
                    f"dict(ann_file='train.json'); got {groups!r}")
            spec_edges = groups.get('bin_edges')
            if bin_edges is not None and spec_edges is not None and \
                    tuple(bin_edges) != tuple(spec_edges):
                raise ValueError(
                    f'bin_edges given twice and differently: {bin_edges!r} '
                    f'and groups.bin_edges={spec_edges!r}')
        edges = validate_bin_edges(
            bin_edges if bin_edges is not None else
            spec_edges if spec_edges is not None else DEFAULT_BIN_EDGES)

        if isinstance(groups, dict) and 'instance_counts' in groups:
            # The layout checks the counts exactly as a BAGS head would.
            counts = GroupLayout.from_counts(groups['instance_counts'],
                                             edges).instance_counts
            return (edges, None, counts,
                    f'{len(counts)} instance counts in label order')

        if isinstance(groups, str):
            table = load_builtin_table(groups)
        else:
            path = train_ann_file if groups is None else groups['ann_file']
            with get_local_path(path, backend_args=backend_args) as local:
                table = count_instances_in_annotation_file(local)
            # Name the configured path, not a temporary local copy.
            table = dataclasses.replace(
                table, source=f'training annotation file {path!r}')
        counts_by_id = dict(zip(table.category_ids, table.instance_counts))
        return edges, counts_by_id, None, table.source

    def _bins_of_categories(self, evaluated_category_ids: Sequence[int],
                            label_category_ids: Optional[Sequence[int]]
                            ) -> Dict[int, int]:
        """Bin of each evaluated category id.

        Args:
            evaluated_category_ids: the category ids evaluated.
            label_category_ids: category id of each label (only used for
                counts in label order).

        Raises:
            ValueError: naming the evaluated ids without a training count.
        """
        if self._counts_by_category_id is not None:
            counts_by_id = self._counts_by_category_id
        else:
            counts = self._counts_in_label_order
            label_category_ids = list(label_category_ids or [])
            if len(counts) != len(label_category_ids):
                without = label_category_ids[len(counts):]
                raise ValueError(
                    f'{self.counts_source}, but the evaluated dataset has '
                    f'{len(label_category_ids)} categories'
                    + (f'; category ids {without[:20]} have no count'
                       if without else '; give one count per category'))
            counts_by_id = dict(zip(label_category_ids, counts))
        missing = [category_id for category_id in evaluated_category_ids
                   if category_id not in counts_by_id]
        if missing:
            raise ValueError(
                f'{len(missing)} evaluated categories have no training '
                f'instance count in {self.counts_source}: category ids '
                f'{missing[:20]}{" ..." if len(missing) > 20 else ""}. '
                'Counts are matched by category id; use the training file '
                'of the same dataset (version) as the evaluated one.')
        return {category_id: bin_of_instance_count(counts_by_id[category_id],
                                                   self.bin_edges)
                for category_id in evaluated_category_ids}

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """The parent metric's results plus ``{type}_AP1..AP{k}`` for each
        evaluated 'bbox'/'segm' type.

        The parent builds one evaluator (``LVISEval``/``COCOeval``) per
        entry of ``self.metrics``, in order, except 'proposal_fast', and
        stops early when there are no detections at all, so the evaluators
        recorded while it runs are a prefix of those entries.
        """
        with _recording_instances(self._evaluator_module,
                                  self._evaluator_names) as evaluators:
            eval_results = super().compute_metrics(results)
        evaluated = [metric for metric in self.metrics
                     if metric != 'proposal_fast']
        for metric, evaluator in zip(evaluated, evaluators):
            if metric not in ('bbox', 'segm'):
                continue
            iou_type, precision, category_ids, area_index = \
                self._read_evaluator(evaluator)
            if iou_type != metric or precision is None:
                raise RuntimeError(
                    f'expected an accumulated {metric!r} evaluator from the '
                    f'parent compute_metrics, found {iou_type!r}: this '
                    'MMDetection version evaluates differently than '
                    f'{type(self).__name__} assumes')
            eval_results.update(self._per_bin_from_precision(
                metric, precision, category_ids, self.cat_ids, area_index))
        return eval_results

    def _per_bin_from_precision(self, metric: str, precision: np.ndarray,
                                category_ids: Sequence[int],
                                label_category_ids: Optional[Sequence[int]],
                                area_index: int) -> Dict[str, float]:
        """``{metric}_AP1..AP{k}`` from a 4-d precision array ``(iou,
        recall, category, area)`` whose category axis is ``category_ids``;
        logs a table."""
        logger: MMLogger = MMLogger.get_current_instance()
        bin_of_category = self._bins_of_categories(category_ids,
                                                   label_category_ids)
        details = _per_bin_details(precision, category_ids, bin_of_category,
                                   self.num_bins, area_index)

        results: Dict[str, float] = {}
        table = [['bin', 'train instances', 'categories', 'with GT', 'AP']]
        for bin_index, ((value, num_categories, num_with_ap),
                        (low, high)) in enumerate(
                            zip(details, bin_count_ranges(self.bin_edges))):
            key = f'AP{bin_index + 1}'
            span = f'[{low}, {high})' if high is not None else f'[{low}, inf)'
            # Rounded like LVISMetric's own keys.
            results[f'{metric}_{key}'] = float(f'{value:.3f}')
            table.append([key, span, str(num_categories), str(num_with_ap),
                          f'{value:.3f}' if num_with_ap else 'empty (-1)'])
            if num_categories == 0:
                logger.info(
                    f'{metric}_{key} = {EMPTY_BIN_AP}: empty bin, no '
                    f'evaluated category has {span} training instances')
            elif num_with_ap == 0:
                logger.info(
                    f'{metric}_{key} = {EMPTY_BIN_AP}: none of the '
                    f'{num_categories} categories with {span} training '
                    'instances has ground truth in the evaluated images')
        logger.info(f'\n{metric} AP per training-instance bin '
                    f'({self.counts_source}):\n' + AsciiTable(table).table)
        return results


@METRICS.register_module()
class PerBinLVISMetric(PerBinMixin, LVISMetric):
    """``LVISMetric`` plus AP per training-instance-count bin (BAGS paper).

    Everything ``LVISMetric`` reports is computed by it unchanged (same keys,
    same values). For each evaluated metric type ``bbox``/``segm`` the keys
    ``{type}_AP1`` ... ``{type}_AP{k}`` are added (``lvis/bbox_AP1`` with the
    default prefix), ``k = len(bin_edges) + 1``: ``AP{i}`` is the mean, over
    the evaluated categories whose training-instance count lies in the
    ``i``-th interval of ``bin_edges``, of the per-category AP (IoU .50:.95,
    area 'all', LVIS's 300 detections per image), read from the same
    ``LVISEval`` precision array LVIS averages into AP. Categories with no
    ground truth in the evaluated images have no AP and are left out, as in
    LVIS. A bin without any category that has an AP is reported as
    :data:`EMPTY_BIN_AP` (-1.0), and a log line says why. Values are rounded
    to 3 decimals like ``LVISMetric``'s; ``metric_items`` does not filter
    them. A table (bin, count range, categories, AP) is logged per type.

    Training counts come from exactly one of ``train_ann_file`` or
    ``groups``. Counts from a file or built-in table are matched to the
    evaluated categories by category id; explicit counts are in label
    order, label ``i`` being ``LVISMetric``'s ``i``-th category id (the one
    it writes for predicted label ``i``: the annotation file's category
    order, ascending ids for LVIS files).

    While ``LVISMetric.compute_metrics`` runs, ``LVISEval`` is replaced in
    its module by an identical recording subclass (process-wide, under a
    lock, restored in ``finally``; see :func:`_recording_instances`). That is
    safe where MMEngine evaluates: in one process, and under DDP only on rank
    0, the other ranks receiving the broadcast results.

    Args:
        ann_file: LVIS-format annotation file of the evaluated split (as for
            ``LVISMetric``).
        metric: as for ``LVISMetric``; per-bin keys are added for 'bbox'
            and 'segm'.
        train_ann_file: COCO/LVIS-format training annotation file; instances
            are counted per category id.
        groups: ``'lvis_v1'`` / ``'lvis_v0.5'`` (the shipped training
            counts), ``dict(instance_counts=[...])`` (label order) or
            ``dict(ann_file=...)`` (same as ``train_ann_file``); a dict may
            carry ``bin_edges``, the same forms a BAGS head accepts.
        bin_edges: positive, strictly ascending instance counts; None means
            the ``groups`` dict's edges, else ``(10, 100, 1000)``.
        **kwargs: the other arguments of ``LVISMetric`` (``classwise``,
            ``format_only``, ``outfile_prefix``, ``prefix``,
            ``backend_args``, ...).

    Raises:
        ValueError: neither or both count sources, an unknown ``groups``
            form, bad ``bin_edges`` (see
            :func:`~mmdet_bags.grouping.validate_bin_edges`), or, when
            ``ann_file`` is given (else at evaluation), evaluated categories
            without a training count (their ids are named).
    """

    def __init__(self,
                 ann_file: Optional[str] = None,
                 metric: Union[str, List[str]] = 'bbox',
                 train_ann_file: Optional[str] = None,
                 groups: Optional[CountsSpec] = None,
                 bin_edges: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        # Resolve the counts before LVISMetric loads the evaluation file, so
        # a configuration mistake fails before anything slow happens.
        self._setup_per_bin(train_ann_file, groups, bin_edges,
                            kwargs.get('backend_args'))
        super().__init__(ann_file=ann_file, metric=metric, **kwargs)
        if self._lvis_api is not None:
            # Fail at build time rather than after a full inference pass.
            self._bins_of_categories(sorted(self._lvis_api.get_cat_ids()),
                                     self._lvis_api.get_cat_ids())

    # ------------------------------------------------------------ metrics
    #: Where ``LVISMetric`` looks up the evaluator it builds.
    _evaluator_module = mmdet_lvis_metric_module
    _evaluator_names = ('LVISEval', )

    @staticmethod
    def _read_evaluator(lvis_eval) -> tuple:
        """IoU type, 4-d precision (None if not accumulated), category ids
        and the index of area 'all' of one ``LVISEval``."""
        precision = lvis_eval.eval['precision'] if lvis_eval.eval else None
        return (lvis_eval.params.iou_type, precision,
                list(lvis_eval.params.cat_ids),
                lvis_eval.params.area_rng_lbl.index('all'))
