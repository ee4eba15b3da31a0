"""LVIS evaluation with the BAGS paper's AP per training-instance-count bin
and, optionally, Fixed AP (Dave et al., 2021) from the same inference run.

:class:`PerBinLVISMetric` is MMDetection's
:class:`~mmdet.evaluation.LVISMetric` plus these keys. The per-bin part is
shared with :class:`~mmdet_bags.evaluation.PerBinCocoMetric`
(:mod:`.per_bin_base`), the Fixed AP part lives in :mod:`.fixed_ap_metric`.
"""
from typing import List, Optional, Sequence, Union

from mmdet.evaluation import LVISMetric
from mmdet.evaluation.metrics import lvis_metric as mmdet_lvis_metric_module
from mmdet.registry import METRICS

from ..chunked_lvis_eval import ChunkedLVISEval
from .fixed_ap_metric import FixedAPMixin
from .per_bin_base import CountsSpec, PerBinMixin


@METRICS.register_module()
class PerBinLVISMetric(FixedAPMixin, PerBinMixin, LVISMetric):
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
    ``groups``, resolved by :func:`~mmdet_bags.grouping.resolve_groups` like
    a BAGS head's. Counts from a file or built-in table are matched to the
    evaluated categories by class name (LVIS's one misspelt name allowed
    for, :func:`~mmdet_bags.grouping.canonical_class_name`); explicit
    counts are in label order, label ``i`` being ``LVISMetric``'s ``i``-th
    category id (the one it writes for predicted label ``i``: the
    annotation file's category order, ascending ids for LVIS files).

    With ``ap_fixed=True`` the same run also reports Fixed AP (Dave et al.,
    2021; :func:`~mmdet_bags.evaluation.evaluate_ap_fixed`):
    ``{type}_APfixed``, ``_APfixed50``, ``_APfixed75``, ``_APfixedr``,
    ``_APfixedc``, ``_APfixedf`` and ``_APfixed1..k`` per bin, from each
    class's ``ap_fixed_max_dets_per_class`` best detections over the
    dataset with no per-image limit. The standard keys keep their values:
    each image is cut to the 300 detections ``LVISResults`` would keep, and
    only those and the running top ``K`` per class are stored (see
    :mod:`mmdet_bags.evaluation.metrics.fixed_ap_metric`). Fixed AP is only
    meaningful if inference lets every class reach ``K`` detections: a low
    score threshold and a per-image limit far above 300 (see the README).

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
        ap_fixed: also report Fixed AP.
        ap_fixed_max_dets_per_class: its ``K`` (10,000, the authors' value
            for LVIS).
        **kwargs: the other arguments of ``LVISMetric`` (``classwise``,
            ``format_only``, ``outfile_prefix``, ``prefix``,
            ``backend_args``, ...).

    Raises:
        ValueError: neither or both count sources, an unknown ``groups``
            form, bad ``bin_edges`` (see
            :func:`~mmdet_bags.grouping.validate_bin_edges`), a ``K`` that
            is not a positive integer, ``ap_fixed`` without 'bbox'/'segm'
            or with 'proposal_fast', or, when ``ann_file`` is given (else at
            evaluation), evaluated categories without a training count
            (their ids are named).
    """

    def __init__(self,
                 ann_file: Optional[str] = None,
                 metric: Union[str, List[str]] = 'bbox',
                 train_ann_file: Optional[str] = None,
                 groups: Optional[CountsSpec] = None,
                 bin_edges: Optional[Sequence[int]] = None,
                 ap_fixed: bool = False,
                 ap_fixed_max_dets_per_class: int = 10000,
                 **kwargs) -> None:
        # Resolve the counts before LVISMetric loads the evaluation file, so
        # a configuration mistake fails before anything slow happens.
        self._setup_per_bin(train_ann_file, groups, bin_edges,
                            kwargs.get('backend_args'))
        super().__init__(ann_file=ann_file, metric=metric, **kwargs)
        self._setup_fixed_ap(ap_fixed, ap_fixed_max_dets_per_class)
        if self._lvis_api is not None:
            # Fail at build time rather than after a full inference pass.
            self._bins_of_categories(sorted(self._lvis_api.get_cat_ids()),
                                     self._lvis_api.get_cat_ids())

    # ------------------------------------------------------------ metrics
    #: Where ``LVISMetric`` looks up the evaluator it builds.
    _evaluator_module = mmdet_lvis_metric_module
    _evaluator_names = ('LVISEval', )
    #: LVIS's results with the memory of a chunk of categories at a time
    #: (LVIS's own evaluator passed 16 GiB at LVIS v1 size: README).
    _evaluator_replacements = {'LVISEval': ChunkedLVISEval}

    @staticmethod
    def _read_evaluator(lvis_eval) -> tuple:
        """IoU type, 4-d precision (None if not accumulated), category ids
        and the index of area 'all' of one ``LVISEval``."""
        precision = lvis_eval.eval['precision'] if lvis_eval.eval else None
        return (lvis_eval.params.iou_type, precision,
                list(lvis_eval.params.cat_ids),
                lvis_eval.params.area_rng_lbl.index('all'))

    def _category_names(self, category_ids: Sequence[int]) -> List[str]:
        return [category['name']
                for category in self._lvis_api.load_cats(list(category_ids))]
