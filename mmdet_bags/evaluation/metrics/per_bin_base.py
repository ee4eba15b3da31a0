"""The part shared by the per-bin metrics (:class:`PerBinLVISMetric`,
:class:`PerBinCocoMetric`): training counts, the bin of each evaluated
category and the per-bin AP table.

The metrics do not re-implement the LVIS/COCO evaluation: each runs its
MMDetection parent's ``compute_metrics`` while recording the evaluator
objects (``LVISEval``/``COCOeval``) that method creates, and averages the
per-category AP of each bin from the very precision arrays the parent
summarises into AP (:mod:`mmdet_bags.evaluation.per_bin`).

The training counts come from :func:`~mmdet_bags.grouping.resolve_groups`,
the same resolution a BAGS head uses, so a metric accepts every ``groups``
form a head accepts and refuses the same mistakes with the same messages.
"""
import contextlib
import dataclasses
import threading
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from ...grouping import (canonical_class_name, resolve_groups,
                         validate_bin_edges)
from ..per_bin import (EMPTY_BIN_AP, bin_count_ranges, bin_of_instance_count,
                       per_bin_details)

# Keys LVISMetric already writes for a metric type; a per-bin key must never
# shadow one of them (only possible with 50 or more bins).
_STANDARD_AP_ITEMS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc',
                      'APf')

# Serialises the temporary replacement of ``LVISEval`` in MMDetection's
# module (see :func:`_recording_instances`).
_LVIS_EVAL_PATCH_LOCK = threading.Lock()


# ------------------------------------------------------- capturing LVISEval
@contextlib.contextmanager
def _recording_instances(module, names: Sequence[str],
                         replacements: Optional[dict] = None
                         ) -> Iterator[list]:
    """Record every instance of the classes ``module.<name>`` (for each of
    ``names``) created while the ``with`` block runs; ``replacements`` maps
    a name to a class used instead of the module's (a subclass computing the
    same results, e.g. :class:`~..chunked_lvis_eval.ChunkedLVISEval`).

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
            base = (replacements or {}).get(name, original)
            setattr(module, name, recording_subclass(base))
        try:
            yield recorded
        finally:
            for name, original in originals.items():
                setattr(module, name, original)



# --------------------------------------------------------------------- metric
CountsSpec = Union[str, dict]


@contextlib.contextmanager
def _local_groups(groups, backend_args: Optional[dict]):
    """``groups`` with a (possibly remote) annotation file replaced by a
    local copy for the duration of the block; the source keeps its name."""
    path = groups.get('ann_file') if isinstance(groups, dict) else None
    if not isinstance(path, str):
        yield groups, None
        return
    with get_local_path(path, backend_args=backend_args) as local:
        yield dict(groups, ann_file=local), (path if local != path else None)


class PerBinMixin:
    """The per-bin part of a metric: training counts, the bin of each
    category and the per-bin AP table.

    A subclass names the module where its MMDetection parent looks up its
    evaluator class (``_evaluator_module``, ``_evaluator_names``, and
    optionally a same-results class to use instead,
    ``_evaluator_replacements``), reads one accumulated evaluator
    (``_read_evaluator``) and names categories (``_category_names``)."""

    _evaluator_replacements: dict = {}

    def _setup_per_bin(self, train_ann_file: Optional[str],
                       groups: Optional[CountsSpec],
                       bin_edges: Optional[Sequence[int]],
                       backend_args: Optional[dict]) -> None:
        """Resolve the training counts and bin edges (see the metrics'
        ``Args``) with :func:`~mmdet_bags.grouping.resolve_groups`."""
        if (train_ann_file is None) == (groups is None):
            raise ValueError(
                'a per-bin metric needs the training instance counts from '
                'exactly one of train_ann_file=PATH or groups=... '
                f'(got train_ann_file={train_ann_file!r}, groups={groups!r})')
        if bin_edges is not None:
            validate_bin_edges(bin_edges)  # its message, before any I/O
        spec = dict(ann_file=train_ann_file) if groups is None else groups
        with _local_groups(spec, backend_args) as (local_spec, remote):
            resolved = resolve_groups(local_spec, bin_edges)
        if remote is not None:  # name the configured path, not a temp copy
            resolved = dataclasses.replace(
                resolved, source=f'annotation file {remote!r}')
        self.bin_edges = resolved.layout.bin_edges
        self.num_bins = len(self.bin_edges) + 1
        self.counts_source = resolved.source
        self._instance_counts = resolved.layout.instance_counts
        # Named sources (a table, a file) are matched to the evaluated
        # categories by class name; explicit counts by label.
        self._counted_names = None if resolved.class_names is None else tuple(
            canonical_class_name(name) for name in resolved.class_names)
        shadowed = [f'AP{i}' for i in range(1, self.num_bins + 1)
                    if f'AP{i}' in _STANDARD_AP_ITEMS]
        if shadowed:
            raise ValueError(
                f'{self.num_bins} bins would name per-bin keys {shadowed} '
                'like the standard AP50/AP75; use fewer than 50 bins')

    def _category_names(self, category_ids: Sequence[int]) -> List[str]:
        """Names of evaluated category ids (from the evaluation file)."""
        raise NotImplementedError

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
        evaluated_category_ids = list(evaluated_category_ids)
        if self._counted_names is not None:
            count_of = dict(zip(self._counted_names, self._instance_counts))
            names = [canonical_class_name(name) for name in
                     self._category_names(evaluated_category_ids)]
            counts_by_id = {cid: count_of[name] for cid, name in
                            zip(evaluated_category_ids, names)
                            if name in count_of}
        else:
            counts = self._instance_counts
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
                'Counts are matched by class name (explicit counts by '
                'label); use the training set of the same dataset (version) '
                'as the evaluated one.')
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
                                  self._evaluator_names,
                                  self._evaluator_replacements) as evaluators:
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
                                area_index: int,
                                key_prefix: str = 'AP') -> Dict[str, float]:
        """``{metric}_{key_prefix}1..{k}`` (``bbox_AP1``, or
        ``bbox_APfixed1`` for Fixed AP) from a 4-d precision array ``(iou,
        recall, category, area)`` whose category axis is ``category_ids``;
        logs a table."""
        logger: MMLogger = MMLogger.get_current_instance()
        bin_of_category = self._bins_of_categories(category_ids,
                                                   label_category_ids)
        details = per_bin_details(precision, category_ids, bin_of_category,
                                   self.num_bins, area_index)

        results: Dict[str, float] = {}
        table = [['bin', 'train instances', 'categories', 'with GT', 'AP']]
        for bin_index, ((value, num_categories, num_with_ap),
                        (low, high)) in enumerate(
                            zip(details, bin_count_ranges(self.bin_edges))):
            key = f'{key_prefix}{bin_index + 1}'
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
        logger.info(f'\n{metric} {key_prefix} per training-instance bin '
                    f'({self.counts_source}):\n' + AsciiTable(table).table)
        return results
