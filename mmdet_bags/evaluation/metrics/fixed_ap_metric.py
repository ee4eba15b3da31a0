"""Fixed AP beside the standard LVIS numbers, from the same inference run,
with bounded memory.

One inference run feeds two evaluations:

* the **standard** path (MMDetection's ``LVISMetric``, unchanged) needs each
  image's 300 best detections: ``LVISResults`` keeps exactly those, so each
  image is cut to them in ``process`` (a stable sort by score, as LVIS's
  own cut) and the standard numbers are those of a plain ``LVISMetric``,
  which would keep every detection until the end;
* the **Fixed AP** path needs each class's ``K`` best detections over the
  dataset: a :class:`~mmdet_bags.evaluation.class_top_k.ClassTopK` per
  metric type keeps a class's running top ``K`` while batches arrive, each
  rank reduces its own before the gather, and rank 0 merges them.

Only the detections either path keeps have their masks RLE-encoded, so a
model may emit thousands of detections per image; memory is one batch, 300
detections per image and ``O(K x classes)``.
"""
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.dist import collect_results, get_dist_info, is_main_process
from mmengine.logging import MMLogger

from ..class_top_k import (DETECTIONS_PER_IMAGE_SLOTS, ClassTopK,
                           check_max_dets_per_class)
from ..fixed_ap import (FIXED_AP_KEYS, run_lvis_eval_without_cap,
                        warn_if_classes_lack_detections)

#: Detections per image that ``LVISResults`` keeps for standard LVIS AP
#: (its ``max_dets`` default, which ``LVISMetric`` uses).
LVIS_MAX_DETS_PER_IMAGE = 300


def fixed_key(metric: str, standard_key: str) -> str:
    """``bbox_AP`` -> ``bbox_APfixed``, ``APr`` -> ``APfixedr``, ``AP1`` ->
    ``APfixed1``: the standard key with ``fixed`` after ``AP``."""
    return f'{metric}_APfixed{standard_key[2:]}'


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _object_array(items: list) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        array[index] = item
    return array


class FixedAPMixin:
    """Adds ``{type}_APfixed*`` to an LVIS metric (see module docstring).

    The host class is an ``LVISMetric`` (its ``process`` fills
    ``self.results``, its ``compute_metrics`` evaluates them) with the
    per-bin part (``_per_bin_from_precision``)."""

    def _setup_fixed_ap(self, ap_fixed: bool,
                        max_dets_per_class: int) -> None:
        self.ap_fixed = bool(ap_fixed)
        self.ap_fixed_max_dets_per_class = check_max_dets_per_class(
            max_dets_per_class)
        self._fixed_types = [m for m in self.metrics if m in ('bbox', 'segm')]
        if self.ap_fixed and not self._fixed_types:
            raise ValueError("ap_fixed=True needs metric 'bbox' and/or "
                             f"'segm', got {self.metrics}")
        if self.ap_fixed and 'proposal_fast' in self.metrics:
            raise ValueError(
                "ap_fixed=True cuts each image to its 300 best detections "
                "for the standard metric; 'proposal_fast' needs every "
                'proposal: evaluate it with a separate metric')
        self._reset_fixed_ap()

    def _reset_fixed_ap(self) -> None:
        self._fixed_top_k = {
            metric: ClassTopK(self.ap_fixed_max_dets_per_class)
            for metric in self._fixed_types}
        self._images_seen = 0
        self._held: Optional[tuple] = None  # (position, columns per type)
        self._label_of_category: Optional[dict] = None
        self._fixed_merged: Dict[str, Optional[dict]] = {}

    # ------------------------------------------------------------- process
    def _listed(self, image_id, labels: np.ndarray) -> np.ndarray:
        """Which detections LVIS's federated rules can count: their class
        is annotated in the image or in its ``neg_category_ids``. The others
        still take one of their class's ``K`` places (the selection comes
        first), so only their score is kept, not their box or mask."""
        if self._lvis_api is None:  # ground truth only known at the end
            return np.ones(len(labels), dtype=bool)
        if self._label_of_category is None:
            # LVISMetric's label -> category id order (get_cat_ids()).
            self._label_of_category = {
                cid: label
                for label, cid in enumerate(self._lvis_api.get_cat_ids())}
        image = self._lvis_api.imgs.get(image_id)
        if image is None:
            raise ValueError(f'image id {image_id!r} of a prediction is not '
                             'in the annotation file (ann_file)')
        listed = set(image.get('neg_category_ids', ())) | {
            ann['category_id']
            for ann in self._lvis_api.img_ann_map.get(image_id, ())}
        return np.isin(labels, [self._label_of_category[cid]
                                for cid in listed])

    def process(self, data_batch: dict, data_samples) -> None:
        """As ``LVISMetric.process``, keeping per image the 300 best
        detections for the standard metric and, for Fixed AP, those that can
        still be among their class's ``K`` best."""
        if not self.ap_fixed:
            return super().process(data_batch, data_samples)
        rank, world_size = get_dist_info()
        reduced, plans, positions = [], [], []
        for sample in data_samples:
            pred = sample['pred_instances']
            scores = _numpy(pred['scores'])
            labels = _numpy(pred['labels']).astype(np.int64)
            type_scores = dict(bbox=scores, segm=_numpy(
                pred['mask_scores']) if 'mask_scores' in pred else scores)
            num = len(scores)
            standard = np.sort(np.argsort(-scores, kind='stable')
                               [:LVIS_MAX_DETS_PER_IMAGE])
            # Global arrival position: DefaultSampler deals image i to rank
            # i % world_size, and collect_results restores that order.
            position = self._images_seen * world_size + rank
            self._images_seen += 1
            positions.append(position)
            order = position * DETECTIONS_PER_IMAGE_SLOTS + np.arange(num)
            listed = self._listed(sample['img_id'], labels)
            candidates = {
                metric: np.flatnonzero(type_scores[metric] > self._fixed_top_k[
                    metric].floor(labels))
                for metric in self._fixed_types
            }
            union = np.unique(np.concatenate(
                [standard] + [chosen[listed[chosen]]
                              for chosen in candidates.values()])).astype(
                                  np.int64)
            index = torch.from_numpy(union)
            sliced = {
                key: value[index.to(value.device)]
                if isinstance(value, torch.Tensor) and value.dim() and
                len(value) == num else value
                for key, value in pred.items()
            }
            reduced.append(dict(sample, pred_instances=sliced))
            plans.append((union, standard, candidates, order, type_scores,
                          labels, listed))
        first = len(self.results)
        super().process(data_batch, reduced)
        for offset, (union, standard, candidates, order, type_scores,
                     labels, listed) in enumerate(plans):
            gt, result = self.results[first + offset]
            self.results[first + offset] = (gt, self._take(
                result, np.searchsorted(union, standard)))
            self._release_held()
            self._held = (positions[offset], {
                metric: self._fixed_columns(
                    metric, result, union, chosen, listed[chosen], labels,
                    type_scores[metric], order)
                for metric, chosen in candidates.items() if chosen.size})

    def _release_held(self) -> None:
        """Add the held image's candidates to the running top K.

        Each rank holds back its latest image: under DDP the sampler pads
        the dataset with at most one repeated image per rank, at the end,
        and only ``evaluate(size)`` tells whether it was padding. Padding
        must not enter the top K, where it could push out real detections.
        """
        if self._held is not None:
            for metric, columns in self._held[1].items():
                self._fixed_top_k[metric].add(columns)
            self._held = None

    @staticmethod
    def _fixed_columns(metric: str, result: dict, union: np.ndarray,
                       chosen: np.ndarray, listed: np.ndarray,
                       labels: np.ndarray, scores: np.ndarray,
                       order: np.ndarray) -> dict:
        """ClassTopK columns of the detections ``chosen`` of one image;
        boxes / masks only where ``listed`` (the others are never
        evaluated)."""
        where = np.searchsorted(union, chosen[listed])
        columns = dict(labels=labels[chosen], scores=scores[chosen],
                       order=order[chosen], listed=listed,
                       img_ids=np.full(len(chosen), result['img_id']))
        if metric == 'bbox':
            columns['bboxes'] = np.zeros((len(chosen), 4), dtype=np.float32)
            columns['bboxes'][listed] = result['bboxes'][where]
        else:
            columns['masks'] = np.empty(len(chosen), dtype=object)
            columns['masks'][np.flatnonzero(listed)] = _object_array(
                [result['masks'][i] for i in where])
        return columns

    @staticmethod
    def _take(result: dict, where: np.ndarray) -> dict:
        """The rows ``where`` of one ``LVISMetric`` result."""
        taken = dict(result)
        for key in ('bboxes', 'scores', 'labels', 'mask_scores'):
            if key in result:
                taken[key] = result[key][where]
        if 'masks' in result:
            taken['masks'] = [result['masks'][i] for i in where]
        return taken

    # ------------------------------------------------------------ evaluate
    def evaluate(self, size: int) -> dict:
        """Gather each rank's top ``K`` per class, merge them on rank 0
        (dropping the sampler's padding), then evaluate as usual."""
        if not self.ap_fixed:
            return super().evaluate(size)
        rank, world_size = get_dist_info()
        if self._images_seen >= 2 and \
                (self._images_seen - 2) * world_size + rank >= size:
            seen = self._images_seen
            self._reset_fixed_ap()
            self.results.clear()
            raise ValueError(
                f'evaluate(size={size}) after {seen} images on '
                f'rank {rank} of {world_size}: only the last image of a rank '
                'can be sampler padding')
        if self._held is not None and self._held[0] < size:
            self._release_held()
        part = {metric: top_k.result()
                for metric, top_k in self._fixed_top_k.items()}
        kwargs = dict(tmpdir=self.collect_dir) \
            if self.collect_device == 'cpu' else {}
        parts = collect_results([part], world_size, self.collect_device,
                                **kwargs)
        try:
            if is_main_process():
                for metric in self._fixed_types:
                    merged = ClassTopK.merged([p[metric] for p in parts],
                                              self.ap_fixed_max_dets_per_class)
                    if merged is not None:
                        inside = merged['order'] // \
                            DETECTIONS_PER_IMAGE_SLOTS < size
                        merged = {key: value[inside]
                                  for key, value in merged.items()}
                    self._fixed_merged[metric] = merged
            return super().evaluate(size)
        finally:
            self._reset_fixed_ap()

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """The standard (and per-bin) metrics, plus ``{type}_APfixed*``."""
        eval_results = super().compute_metrics(results)
        if self.ap_fixed and not self.format_only:
            for metric in self._fixed_types:
                eval_results.update(self._fixed_ap_metrics(metric))
        return eval_results

    def _fixed_ap_metrics(self, metric: str) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        kept = self._fixed_merged.get(metric)
        if kept is None or not kept['listed'].any():
            logger.info(f'Fixed AP {metric}: no detections, nothing to '
                        'evaluate')
            return {}
        lvis_results = []
        for row in np.flatnonzero(kept['listed']):
            result = dict(image_id=int(kept['img_ids'][row]),
                          category_id=self.cat_ids[kept['labels'][row]],
                          score=float(kept['scores'][row]))
            if metric == 'bbox':
                result['bbox'] = self.xyxy2xywh(kept['bboxes'][row])
            else:  # no 'bbox': LVIS takes the area from the mask
                rle = dict(kept['masks'][row])
                if isinstance(rle['counts'], bytes):
                    rle['counts'] = rle['counts'].decode()
                result['segmentation'] = rle
            lvis_results.append(result)
        warn_if_classes_lack_detections(kept['labels'],
                                        self.ap_fixed_max_dets_per_class)
        logger.info(f'Evaluating Fixed AP {metric}: '
                    f'{len(lvis_results)} detections, at most '
                    f'{self.ap_fixed_max_dets_per_class} per class, no '
                    'per-image limit')
        lvis_eval = run_lvis_eval_without_cap(self._lvis_api, lvis_results,
                                              metric)
        metrics = {fixed_key(metric, key):
                   float(f'{float(lvis_eval.results[key]):.3f}')
                   for key in FIXED_AP_KEYS}
        logger.info(f'Fixed AP {metric}: ' + ', '.join(
            f'{key} {value:.3f}' for key, value in metrics.items()))
        metrics.update(self._per_bin_from_precision(
            metric, lvis_eval.eval['precision'],
            list(lvis_eval.params.cat_ids), self.cat_ids,
            lvis_eval.params.area_rng_lbl.index('all'),
            key_prefix='APfixed'))
        return metrics
