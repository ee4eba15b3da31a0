"""PerBinLVISMetric: LVIS AP per training-instance bin, on hand-made cases.

The evaluation file below is built so that every category's LVIS AP is
known exactly (IoU .50:.95, 101 recall thresholds):

* apple (id 1): its one instance found exactly               -> AP 1
* ball  (id 2): its one instance "found" only with a box of
  IoU 0 (a false positive)                                   -> AP 0
* cup   (id 3): two instances, one found exactly at rank 1: recall 0.5 with
  precision 1, so precision is 1 at the 51 recall thresholds 0.00..0.50
  and 0 at the 50 above                                       -> AP 51/101
* dog   (id 4): no ground truth, only a detection in an image that lists it
  in ``neg_category_ids``: LVIS has no AP for it (precision -1) and leaves
  it out                                                      -> no AP
* egg   (id 5): its one instance found exactly, plus a lower-scored
  unmatched detection in an image where egg is not exhaustively annotated,
  which LVIS ignores                                          -> AP 1

(LVIS divides by ``tp + fp + eps``, so "1" is 1 - 2e-16; values are
compared after LVISMetric's 3-decimal rounding or with ``approx``.)

Training counts put the categories in the default bins
``[0, 10), [10, 100), [100, 1000), [1000, inf)``: apple 5 -> bin 1,
ball 50 and cup 20 -> bin 2, none -> bin 3 (empty), dog 2000 and egg 1500
-> bin 4.
"""
import json
import logging

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from detection_helpers import box_polygon

IMAGE_SIZE = (64, 64)  # height, width

CATEGORIES = [  # id, name, frequency
    (1, 'apple', 'r'), (2, 'ball', 'c'), (3, 'cup', 'f'), (4, 'dog', 'c'),
    (5, 'egg', 'f')
]
TRAINING_COUNTS = {1: 5, 2: 50, 3: 20, 4: 2000, 5: 1500}
CATEGORY_AP = {1: 1.0, 2: 0.0, 3: 51 / 101, 5: 1.0}  # dog: no AP
# Mean AP of the categories with an AP in each default bin; bin 3 is empty.
EXPECTED_BIN_AP = [1.0, (0.0 + 51 / 101) / 2, -1.0, 1.0]

# image id -> (not_exhaustive_category_ids, neg_category_ids)
IMAGE_LISTS = {1: ([], [4]), 2: ([5], [])}
# (image id, category id, xyxy box) of every ground-truth instance.
GROUND_TRUTH = [(1, 1, (4, 4, 24, 20)), (1, 2, (30, 8, 56, 40)),
                (1, 3, (10, 40, 30, 60)), (2, 3, (5, 5, 40, 30)),
                (2, 5, (20, 34, 50, 60))]
# image id -> [(category id, xyxy box, score)]
PREDICTIONS = {
    1: [(1, (4, 4, 24, 20), 0.9),     # apple, exact
        (2, (40, 44, 60, 62), 0.8),   # ball, disjoint from the ball: IoU 0
        (3, (10, 40, 30, 60), 0.7),   # cup, exact; the other cup is missed
        (4, (30, 8, 56, 40), 0.6)],   # dog: negative in image 1, no GT
    2: [(5, (20, 34, 50, 60), 0.9),   # egg, exact
        (5, (0, 0, 10, 10), 0.5)],    # egg, unmatched but not exhaustive
}


def write_lvis_file(path, categories=CATEGORIES):
    height, width = IMAGE_SIZE
    images = [
        dict(id=image_id, height=height, width=width,
             file_name=f'{image_id:012d}.jpg',
             coco_url=f'http://images.cocodataset.org/val2017/'
             f'{image_id:012d}.jpg',
             not_exhaustive_category_ids=not_exhaustive,
             neg_category_ids=negative)
        for image_id, (not_exhaustive, negative) in IMAGE_LISTS.items()
    ]
    annotations = []
    for annotation_id, (image_id, category_id, box) in enumerate(
            GROUND_TRUTH, 1):
        x1, y1, x2, y2 = box
        annotations.append(
            dict(id=annotation_id, image_id=image_id, category_id=category_id,
                 bbox=[x1, y1, x2 - x1, y2 - y1],
                 area=float((x2 - x1) * (y2 - y1)),
                 segmentation=[box_polygon(box)]))
    content = dict(
        images=images, annotations=annotations,
        categories=[
            dict(id=category_id, name=name, frequency=frequency,
                 image_count=1, instance_count=1, synset=f'{name}.n.01',
                 synonyms=[name], def_=name)
            for category_id, name, frequency in categories
        ])
    path.write_text(json.dumps(content))
    return str(path)


def write_training_file(path, counts=TRAINING_COUNTS):
    """A COCO-format training file with ``counts[id]`` instances per id."""
    category_of_each_annotation = [
        category_id for category_id, count in counts.items()
        for _ in range(count)
    ]
    annotations = [
        dict(id=annotation_id, image_id=1, category_id=category_id,
             bbox=[0, 0, 2, 2], area=4, iscrowd=0)
        for annotation_id, category_id in enumerate(
            category_of_each_annotation, 1)
    ]
    content = dict(
        images=[dict(id=1, width=8, height=8, file_name='a.jpg')],
        annotations=annotations,
        categories=[dict(id=category_id, name=name)
                    for category_id, name, _ in CATEGORIES])
    path.write_text(json.dumps(content))
    return str(path)


def box_mask(box):
    """The mask LVIS decodes from the box's polygon (same pixels as GT)."""
    height, width = IMAGE_SIZE
    rles = mask_utils.frPyObjects([box_polygon(box)], height, width)
    return mask_utils.decode(mask_utils.merge(rles))


def data_samples(category_ids=(1, 2, 3, 4, 5)):
    """Predictions as LVISMetric.process takes them (label = index of the
    category id in the evaluation file's category order)."""
    samples = []
    for image_id, predictions in PREDICTIONS.items():
        boxes = [box for _, box, _ in predictions]
        samples.append(
            dict(img_id=image_id, ori_shape=IMAGE_SIZE,
                 pred_instances=dict(
                     bboxes=torch.tensor(boxes, dtype=torch.float32),
                     scores=torch.tensor([s for _, _, s in predictions]),
                     labels=torch.tensor([category_ids.index(c)
                                          for c, _, _ in predictions]),
                     masks=torch.from_numpy(
                         np.stack([box_mask(b) for b in boxes])).bool())))
    return samples


def evaluate(metric):
    metric.dataset_meta = dict(classes=tuple(n for _, n, _ in CATEGORIES))
    metric.process({}, data_samples())
    return metric.evaluate(size=len(PREDICTIONS))


@pytest.fixture
def lvis_file(tmp_path):
    return write_lvis_file(tmp_path / 'lvis_v1_val_small.json')


@pytest.fixture
def training_file(tmp_path):
    return write_training_file(tmp_path / 'train.json')


# ---------------------------------------------------- end to end, exact APs
@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_hand_made_category_aps_are_what_lvis_computes(lvis_file, iou_type):
    """Pins the test data: LVIS itself gives the per-category APs above, and
    its AP is their mean (dog, without AP, left out)."""
    from lvis import LVIS, LVISEval

    from mmdet_bags.evaluation import per_category_average_precision
    detections = []
    for image_id, predictions in PREDICTIONS.items():
        for category_id, box, score in predictions:
            x1, y1, x2, y2 = box
            detection = dict(image_id=image_id, category_id=category_id,
                             score=score, bbox=[x1, y1, x2 - x1, y2 - y1])
            if iou_type == 'segm':
                detection['segmentation'] = mask_utils.encode(
                    np.asfortranarray(box_mask(box)))
            detections.append(detection)
    lvis_eval = LVISEval(LVIS(lvis_file), detections, iou_type)
    lvis_eval.run()
    assert lvis_eval.params.cat_ids == [1, 2, 3, 4, 5]
    category_ap = per_category_average_precision(
        lvis_eval.eval['precision'])
    np.testing.assert_allclose(
        category_ap, [CATEGORY_AP.get(c, np.nan) for c in (1, 2, 3, 4, 5)],
        rtol=0, atol=1e-12)
    assert lvis_eval.results['AP'] == pytest.approx(
        np.mean(list(CATEGORY_AP.values())), abs=1e-12)


@pytest.mark.parametrize('source', ['train_ann_file', 'instance_counts'])
def test_per_bin_ap_is_the_mean_of_known_category_aps(lvis_file,
                                                      training_file, source):
    from mmdet_bags.evaluation import PerBinLVISMetric
    if source == 'train_ann_file':
        counts = dict(train_ann_file=training_file)
    else:  # label order = the evaluation file's category order
        counts = dict(groups=dict(instance_counts=[
            TRAINING_COUNTS[category_id] for category_id, _, _ in CATEGORIES
        ]))
    metric = PerBinLVISMetric(ann_file=lvis_file, metric=['bbox', 'segm'],
                              **counts)
    results = evaluate(metric)
    for iou_type in ('bbox', 'segm'):
        per_bin = [results[f'lvis/{iou_type}_AP{i}'] for i in range(1, 5)]
        # Rounded to 3 decimals like LVISMetric's keys.
        assert per_bin == [float(f'{ap:.3f}') for ap in EXPECTED_BIN_AP]
        assert per_bin == [1.0, 0.252, -1.0, 1.0]
        assert f'lvis/{iou_type}_AP5' not in results


def test_standard_keys_are_those_of_lvis_metric(lvis_file, training_file):
    from mmdet.evaluation import LVISMetric

    from mmdet_bags.evaluation import PerBinLVISMetric
    plain = evaluate(LVISMetric(ann_file=lvis_file, metric=['bbox', 'segm']))
    per_bin = evaluate(
        PerBinLVISMetric(ann_file=lvis_file, metric=['bbox', 'segm'],
                         train_ann_file=training_file))
    added = {f'lvis/{t}_AP{i}' for t in ('bbox', 'segm') for i in range(1, 5)}
    assert set(per_bin) == set(plain) | added
    assert {key: per_bin[key] for key in plain} == plain
    # And the standard keys are the hand-computed ones.
    mean_ap = float(f'{np.mean(list(CATEGORY_AP.values())):.3f}')
    assert plain['lvis/bbox_AP'] == plain['lvis/segm_AP'] == mean_ap
    assert plain['lvis/bbox_APr'] == 1.0  # apple
    assert plain['lvis/bbox_APc'] == 0.0  # ball (dog has no AP)
    assert plain['lvis/bbox_APf'] == float(f'{(51 / 101 + 1) / 2:.3f}')


def test_one_bin_holding_every_category_reproduces_lvis_ap(lvis_file,
                                                           training_file):
    from mmdet_bags.evaluation import PerBinLVISMetric
    metric = PerBinLVISMetric(ann_file=lvis_file, metric='bbox',
                              train_ann_file=training_file,
                              bin_edges=(10**6, ))
    results = evaluate(metric)
    assert results['lvis/bbox_AP1'] == results['lvis/bbox_AP']
    assert results['lvis/bbox_AP2'] == -1.0  # [1e6, inf): empty


def test_bin_of_categories_without_ground_truth_is_reported_empty(
        lvis_file, training_file):
    """Edges (1000, 1800): egg (1500) alone in bin 2 with AP 1; dog (2000)
    alone in bin 3 but without ground truth -> -1, like an empty bin."""
    from mmengine.logging import MMLogger

    from mmdet_bags.evaluation import PerBinLVISMetric
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        results = evaluate(
            PerBinLVISMetric(ann_file=lvis_file, metric='bbox',
                             train_ann_file=training_file,
                             bin_edges=(1000, 1800)))
    finally:
        logger.removeHandler(handler)
    assert [results[f'lvis/bbox_AP{i}'] for i in (1, 2, 3)] == \
        [float(f'{(1 + 0 + 51 / 101) / 3:.3f}'), 1.0, -1.0]
    messages = [record.getMessage() for record in records]
    assert any('bbox_AP3 = -1.0' in m and 'ground truth' in m
               for m in messages)
    assert any('AP per training-instance bin' in m for m in messages)


def test_empty_bin_is_logged(lvis_file, training_file):
    from mmengine.logging import MMLogger

    from mmdet_bags.evaluation import PerBinLVISMetric
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        evaluate(PerBinLVISMetric(ann_file=lvis_file, metric='segm',
                                  train_ann_file=training_file))
    finally:
        logger.removeHandler(handler)
    messages = [record.getMessage() for record in records]
    assert any('segm_AP3 = -1.0: empty bin' in m and '[100, 1000)' in m
               for m in messages)


def test_lvis_eval_is_restored_even_when_evaluation_fails(
        lvis_file, training_file, monkeypatch):
    from mmdet.evaluation.metrics import lvis_metric

    from mmdet_bags.evaluation import PerBinLVISMetric
    original = lvis_metric.LVISEval
    metric = PerBinLVISMetric(ann_file=lvis_file, metric='bbox',
                              train_ann_file=training_file)
    evaluate(metric)
    assert lvis_metric.LVISEval is original

    def broken_summarize(self):
        raise RuntimeError('summarize failed')

    monkeypatch.setattr(original, 'summarize', broken_summarize)
    with pytest.raises(RuntimeError, match='summarize failed'):
        evaluate(metric)
    assert lvis_metric.LVISEval is original


# ------------------------------------------------------------ pure function
def test_per_bin_average_precision_on_a_synthetic_array():
    from mmdet_bags.evaluation import (per_bin_average_precision,
                                       per_category_average_precision)

    # (2 IoU thresholds, 3 recall thresholds, 4 categories, 2 area ranges)
    precision = -np.ones((2, 3, 4, 2))
    precision[:, :, 0, 0] = [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # AP 1/2
    precision[:, :, 1, 0] = 0.25                                # AP 1/4
    precision[:, :, 2, 0] = [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]  # AP 5/6
    # category 3 keeps -1 in area 0 (no ground truth); area 1 is noise that
    # must not leak into area 0.
    precision[:, :, :, 1] = 0.9
    category_ids = [10, 20, 30, 40]
    np.testing.assert_allclose(
        per_category_average_precision(precision),
        [0.5, 0.25, 5 / 6, np.nan])
    bin_of_category = {10: 0, 20: 2, 30: 2, 40: 3, 99: 0}  # 99 not evaluated
    assert per_bin_average_precision(
        precision, category_ids, bin_of_category, num_bins=5) == \
        pytest.approx([0.5, -1.0, (0.25 + 5 / 6) / 2, -1.0, -1.0])
    # Without num_bins: up to the largest bin used.
    assert len(per_bin_average_precision(precision, category_ids,
                                         bin_of_category)) == 4
    assert per_bin_average_precision(
        precision, category_ids, bin_of_category, num_bins=4,
        area_index=1) == pytest.approx([0.9, -1.0, 0.9, 0.9])


def test_per_bin_average_precision_rejects_unbinned_categories():
    from mmdet_bags.evaluation import per_bin_average_precision
    precision = np.zeros((1, 2, 3, 1))
    with pytest.raises(ValueError, match=r'\[30\]'):
        per_bin_average_precision(precision, [10, 20, 30], {10: 0, 20: 1})
    with pytest.raises(ValueError, match='3 categories but 2'):
        per_bin_average_precision(precision, [10, 20], {10: 0, 20: 1})
    with pytest.raises(ValueError, match='bins must lie in 0..1'):
        per_bin_average_precision(precision, [10, 20, 30],
                                  {10: 0, 20: 1, 30: 2}, num_bins=2)


def test_bins_follow_the_group_layout_rule():
    from mmdet_bags.evaluation import bin_count_ranges, bin_of_instance_count
    from mmdet_bags.grouping import GroupLayout
    edges = (10, 100, 1000)
    counts = [0, 9, 10, 99, 100, 999, 1000, 10**6]
    assert [bin_of_instance_count(n, edges) for n in counts] == \
        [0, 0, 1, 1, 2, 2, 3, 3]
    layout = GroupLayout.from_counts(counts, edges)  # no empty bin here
    assert [b + 1 for b in (bin_of_instance_count(n, edges) for n in counts)
            ] == layout.group_of.tolist()
    assert bin_count_ranges(edges) == [(0, 10), (10, 100), (100, 1000),
                                       (1000, None)]


# ------------------------------------------------------------------- errors
def test_unknown_category_ids_are_named(tmp_path, training_file):
    from mmdet_bags.evaluation import PerBinLVISMetric
    lvis_file = write_lvis_file(
        tmp_path / 'other.json',
        CATEGORIES + [(77, 'fig', 'r'), (88, 'gum', 'c')])
    with pytest.raises(ValueError, match=r'category ids \[77, 88\]'):
        PerBinLVISMetric(ann_file=lvis_file, train_ann_file=training_file)
    # Built-in LVIS v1 table: ids 1..1203.
    lvis_file = write_lvis_file(tmp_path / 'big_id.json',
                                CATEGORIES + [(5000, 'fig', 'r')])
    with pytest.raises(ValueError, match=r'category ids \[5000\]'):
        PerBinLVISMetric(ann_file=lvis_file, groups='lvis_v1')


def test_too_few_counts_in_label_order(lvis_file):
    from mmdet_bags.evaluation import PerBinLVISMetric
    with pytest.raises(ValueError, match=r'category ids \[4, 5\] have no'):
        PerBinLVISMetric(ann_file=lvis_file,
                         groups=dict(instance_counts=[5, 50, 20]))


def test_unknown_ids_without_ann_file_fail_at_evaluation(tmp_path,
                                                         lvis_file):
    """Without ann_file the categories are only known when evaluating."""
    from mmdet_bags.evaluation import PerBinLVISMetric
    metric = PerBinLVISMetric(ann_file=None, metric='bbox',
                              groups=dict(instance_counts=[5, 50]))
    metric.dataset_meta = dict(classes=tuple(n for _, n, _ in CATEGORIES))
    # Give it the ground truth LVISMetric would convert, then swap in the
    # LVIS api of the evaluation file (what the conversion would produce).
    from lvis import LVIS
    metric._lvis_api = LVIS(lvis_file)
    metric.process({}, data_samples())
    with pytest.raises(ValueError, match=r'category ids \[3, 4, 5\]'):
        metric.evaluate(size=len(PREDICTIONS))


@pytest.mark.parametrize('bin_edges', [(100, 10), (10, 10), (0, 10), (),
                                       'abc', (1.5, )])
def test_bad_bin_edges_are_refused(lvis_file, training_file, bin_edges):
    from mmdet_bags.evaluation import PerBinLVISMetric
    from mmdet_bags.grouping import validate_bin_edges
    with pytest.raises(ValueError) as expected:
        validate_bin_edges(bin_edges)
    with pytest.raises(ValueError) as raised:
        PerBinLVISMetric(ann_file=lvis_file, train_ann_file=training_file,
                         bin_edges=bin_edges)
    assert str(raised.value) == str(expected.value)


def test_count_source_must_be_given_once(lvis_file, training_file):
    from mmdet_bags.evaluation import PerBinLVISMetric
    with pytest.raises(ValueError, match='exactly one'):
        PerBinLVISMetric(ann_file=lvis_file)
    with pytest.raises(ValueError, match='exactly one'):
        PerBinLVISMetric(ann_file=lvis_file, train_ann_file=training_file,
                         groups='lvis_v1')
    with pytest.raises(ValueError, match='built-in name'):
        PerBinLVISMetric(ann_file=lvis_file, groups=dict(counts=[1, 2]))
    with pytest.raises(ValueError, match='unknown built-in'):
        PerBinLVISMetric(ann_file=lvis_file, groups='coco')
    with pytest.raises(ValueError, match='given twice'):
        PerBinLVISMetric(ann_file=lvis_file, bin_edges=(10, 100),
                         groups=dict(ann_file=training_file,
                                     bin_edges=(10, 1000)))


def test_bin_edges_may_come_with_groups(lvis_file, training_file):
    from mmdet_bags.evaluation import PerBinLVISMetric
    metric = PerBinLVISMetric(ann_file=lvis_file,
                              groups=dict(ann_file=training_file,
                                          bin_edges=(1000, 1800)))
    assert metric.bin_edges == (1000, 1800) and metric.num_bins == 3
    assert PerBinLVISMetric(ann_file=lvis_file, groups='lvis_v1'
                            ).bin_edges == (10, 100, 1000)


# -------------------------------------------------------------- registration
def test_registered_and_buildable_from_a_config(lvis_file):
    import mmdet_bags  # noqa: F401
    from mmdet.registry import METRICS

    from mmdet_bags.evaluation import PerBinLVISMetric
    metric = METRICS.build(
        dict(type='PerBinLVISMetric', ann_file=lvis_file, groups='lvis_v1',
             metric=['bbox', 'segm']))
    assert isinstance(metric, PerBinLVISMetric)
    assert metric.metrics == ['bbox', 'segm']
    assert metric.bin_edges == (10, 100, 1000)
    results = evaluate(metric)
    assert {f'lvis/{t}_AP{i}' for t in ('bbox', 'segm')
            for i in range(1, 5)} <= set(results)


# ------------------------------------------------------------------ Fixed AP
def lvis_results(iou_type):
    """PREDICTIONS as LVIS result dicts (what results2json writes)."""
    detections = []
    for image_id, predictions in PREDICTIONS.items():
        for category_id, box, score in predictions:
            x1, y1, x2, y2 = box
            detection = dict(image_id=image_id, category_id=category_id,
                             score=score, bbox=[x1, y1, x2 - x1, y2 - y1])
            if iou_type == 'segm':
                rle = mask_utils.encode(np.asfortranarray(box_mask(box)))
                rle['counts'] = rle['counts'].decode()
                detection['segmentation'] = rle
            detections.append(detection)
    return detections


@pytest.mark.parametrize('max_dets_per_class', [1, 10000])
def test_fixed_ap_of_boxes_and_masks_from_the_same_run(
        lvis_file, training_file, max_dets_per_class):
    """K = 1 drops egg's second detection (egg has two)."""
    from mmdet_bags.evaluation import PerBinLVISMetric, evaluate_ap_fixed
    metric = PerBinLVISMetric(
        ann_file=lvis_file, metric=['bbox', 'segm'],
        train_ann_file=training_file, ap_fixed=True,
        ap_fixed_max_dets_per_class=max_dets_per_class)
    results = evaluate(metric)
    for iou_type in ('bbox', 'segm'):
        expected = evaluate_ap_fixed(lvis_file, lvis_results(iou_type),
                                     iou_type, max_dets_per_class,
                                     instance_counts=TRAINING_COUNTS)
        assert set(expected) == {'AP', 'AP50', 'AP75', 'APr', 'APc', 'APf',
                                 'AP1', 'AP2', 'AP3', 'AP4'}
        for key, value in expected.items():
            assert results[f'lvis/{iou_type}_APfixed{key[2:]}'] == \
                float(f'{value:.3f}'), (iou_type, key)
        # Here every category's AP is as in the standard evaluation.
        assert results[f'lvis/{iou_type}_APfixed'] == \
            results[f'lvis/{iou_type}_AP']
