"""COCO evaluation with AP per training-instance-count bin, for any
COCO-format long-tail set (COCO-LT, a user's own data).

:class:`PerBinCocoMetric` is MMDetection's :class:`~mmdet.evaluation.CocoMetric`
plus ``{type}_AP1..AP{k}``, computed exactly like
:class:`~mmdet_bags.evaluation.PerBinLVISMetric`'s from the precision array
of the ``COCOeval`` that ``CocoMetric`` itself builds (recorded while it
runs; see ``PerBinMixin.compute_metrics``).
"""
from typing import List, Optional, Sequence, Union

import numpy as np

from mmdet.evaluation import CocoMetric
from mmdet.evaluation.metrics import coco_metric as mmdet_coco_metric_module
from mmdet.registry import METRICS

from .per_bin_base import CountsSpec, PerBinMixin


@METRICS.register_module()
class PerBinCocoMetric(PerBinMixin, CocoMetric):
    """``CocoMetric`` plus AP per training-instance-count bin.

    Everything ``CocoMetric`` reports is computed by it unchanged. For each
    evaluated ``bbox``/``segm`` type, ``{type}_AP1`` ... ``{type}_AP{k}``
    are added (``coco/bbox_AP1`` with the default prefix), ``k =
    len(bin_edges) + 1``: ``AP{i}`` is the mean, over the evaluated
    categories whose training-instance count lies in the ``i``-th interval
    of ``bin_edges`` (``[0, e1), [e1, e2), ..., [e_last, inf)``; a count
    equal to an edge starts the next bin), of the per-category AP at IoU
    .50:.95, area 'all' and ``CocoMetric``'s largest ``proposal_nums``
    detections per image: the values ``CocoMetric``'s ``classwise`` table
    shows, averaged. Categories without ground truth in the evaluated images
    have no AP and are left out; a bin with no category that has an AP is
    -1.0. A table (bin, count range, categories, AP) is logged per type.

    COCO-LT's bins ``[1, 20), [20, 400), [400, 8000), [8000, inf)`` are
    ``bin_edges=(20, 400, 8000)`` (every COCO-LT class has at least one
    training instance, so the first bin is the same).

    Args:
        ann_file: COCO-format annotation file of the evaluated split.
        metric: as for ``CocoMetric``; per-bin keys for 'bbox' and 'segm'.
        train_ann_file: COCO-format training annotation file; instances are
            counted per category id.
        groups: ``dict(instance_counts=[...])`` in label order,
            ``dict(ann_file=...)`` (same as ``train_ann_file``) or a
            built-in table name; a dict may carry ``bin_edges``. Resolved
            by :func:`~mmdet_bags.grouping.resolve_groups`; named counts are
            matched to the evaluated categories by class name.
        bin_edges: positive, strictly ascending; default the ``groups``
            dict's, else ``(10, 100, 1000)``.
        **kwargs: the other arguments of ``CocoMetric``.

    Raises:
        ValueError: as :class:`~mmdet_bags.evaluation.PerBinLVISMetric`:
            bad count sources or edges, evaluated categories without a
            training count.
    """

    def __init__(self,
                 ann_file: Optional[str] = None,
                 metric: Union[str, List[str]] = 'bbox',
                 train_ann_file: Optional[str] = None,
                 groups: Optional[CountsSpec] = None,
                 bin_edges: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        self._setup_per_bin(train_ann_file, groups, bin_edges,
                            kwargs.get('backend_args'))
        super().__init__(ann_file=ann_file, metric=metric, **kwargs)
        if self._coco_api is not None and \
                self._counted_names is not None:
            # Fail at build time rather than after a full inference pass.
            category_ids = self._coco_api.get_cat_ids()
            self._bins_of_categories(category_ids, category_ids)

    # Where ``CocoMetric`` looks up the evaluator it builds.
    _evaluator_module = mmdet_coco_metric_module
    _evaluator_names = ('COCOeval', 'COCOevalMP')

    @staticmethod
    def _read_evaluator(coco_eval) -> tuple:
        """IoU type, 4-d precision (None if not accumulated), category ids
        and the index of area 'all' of one ``COCOeval``. Its precision is
        ``(iou, recall, category, area, max_dets)``; ``CocoMetric``'s AP uses
        the last (largest) max_dets."""
        precision = np.asarray(coco_eval.eval['precision'])[..., -1] \
            if coco_eval.eval else None
        return (coco_eval.params.iouType, precision,
                list(coco_eval.params.catIds),
                coco_eval.params.areaRngLbl.index('all'))

    def _category_names(self, category_ids: Sequence[int]) -> List[str]:
        return [category['name']
                for category in self._coco_api.load_cats(list(category_ids))]
