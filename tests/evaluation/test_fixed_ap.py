"""Fixed AP and Pooled AP (Dave et al., 2021) on generated LVIS-format data.

The reference computation is written out here independently of the
package: each class's K best results by a stable sort on the score (the
authors' script), then ``lvis.LVISEval`` with no per-image limit.
"""
import json
from collections import defaultdict

import numpy as np
import pytest
import torch
from generated_lvis_results import generated_lvis_results

NUM_IMAGES = 24
NUM_CATEGORIES = 10
DETS_PER_IMAGE = 320  # above LVIS's 300 per image, so that cut happens


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """An LVIS-format file, its detections per image and as LVIS results."""
    path = str(tmp_path_factory.mktemp('fixed_ap') / 'val.json')
    return generated_lvis_results(path, NUM_IMAGES, NUM_CATEGORIES,
                                  DETS_PER_IMAGE, seed=3)


def reference_fixed_ap(path, results, max_dets_per_class):
    """The authors' protocol, written out independently."""
    from lvis import LVIS, LVISEval, LVISResults
    by_category = defaultdict(list)
    for result in results:
        by_category[result['category_id']].append(dict(result))
    selected = []
    for category_results in by_category.values():
        selected.extend(sorted(category_results, key=lambda r: r['score'],
                               reverse=True)[:max_dets_per_class])
    gt = LVIS(path)
    lvis_eval = LVISEval(gt, LVISResults(gt, selected, max_dets=-1), 'bbox')
    lvis_eval.params.max_dets = -1
    lvis_eval.run()
    return lvis_eval


def test_generated_data_makes_the_cap_bind(generated):
    per_class = np.bincount([r['category_id'] for r in generated['results']])
    assert per_class[1:].min() > 20  # K = 20 cuts every class
    assert len(generated['results']) == NUM_IMAGES * DETS_PER_IMAGE


@pytest.mark.parametrize('max_dets_per_class', [20, 10**6])
def test_fixed_ap_equals_the_independent_computation(generated,
                                                     max_dets_per_class):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    reference = reference_fixed_ap(generated['path'], generated['results'],
                                   max_dets_per_class)
    fixed = evaluate_ap_fixed(generated['path'], generated['results'],
                              max_dets_per_class=max_dets_per_class)
    assert set(fixed) == {'AP', 'AP50', 'AP75', 'APr', 'APc', 'APf'}
    for key, value in fixed.items():
        assert value == float(reference.results[key]), key
    assert 0 < fixed['AP'] < 1


def test_the_cap_changes_the_result(generated):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    capped = evaluate_ap_fixed(generated['path'], generated['results'],
                               max_dets_per_class=20)
    uncapped = evaluate_ap_fixed(generated['path'], generated['results'],
                                 max_dets_per_class=10**6)
    assert capped['AP'] != uncapped['AP']


def test_per_bin_fixed_ap_averages_the_reference_categories(generated):
    from mmdet_bags.evaluation import (evaluate_ap_fixed,
                                       per_category_average_precision)
    counts = list(range(1, 2 * NUM_CATEGORIES, 2))  # 1, 3, ..., 19
    fixed = evaluate_ap_fixed(generated['path'], generated['results'],
                              max_dets_per_class=20, instance_counts=counts,
                              bin_edges=(5, 12))
    reference = reference_fixed_ap(generated['path'], generated['results'],
                                   20)
    category_ap = per_category_average_precision(
        reference.eval['precision'])
    bins = [[i for i, c in enumerate(counts) if c < 5],
            [i for i, c in enumerate(counts) if 5 <= c < 12],
            [i for i, c in enumerate(counts) if c >= 12]]
    for number, members in enumerate(bins, start=1):
        values = category_ap[members]
        assert fixed[f'AP{number}'] == pytest.approx(
            np.nanmean(values), abs=1e-12)
    # A dict by category id gives the same.
    by_id = dict(zip(range(1, NUM_CATEGORIES + 1), counts))
    assert evaluate_ap_fixed(generated['path'], generated['results'],
                             max_dets_per_class=20, instance_counts=by_id,
                             bin_edges=(5, 12)) == fixed


def test_input_is_not_modified_and_a_file_works(generated, tmp_path):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    results = generated['results'][:500]
    before = json.dumps(results)
    from_list = evaluate_ap_fixed(generated['path'], results, 'bbox', 7)
    assert json.dumps(results) == before
    path = tmp_path / 'results.json'
    path.write_text(before)
    assert evaluate_ap_fixed(generated['path'], str(path), 'bbox', 7) == \
        from_list


# ---------------------------------------------------------------- bad input
def test_unknown_categories_are_refused(generated):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    results = generated['results'][:10] + [
        dict(generated['results'][0], category_id=999),
        dict(generated['results'][0], category_id=555)]
    with pytest.raises(ValueError, match=r"category_ids that are not in the "
                       r"annotation file's categories: \[555, 999\]"):
        evaluate_ap_fixed(generated['path'], results)


def test_empty_results_are_refused(generated):
    from mmdet_bags.evaluation import evaluate_ap_fixed, evaluate_ap_pooled
    for evaluate in (evaluate_ap_fixed, evaluate_ap_pooled):
        with pytest.raises(ValueError, match='results are empty'):
            evaluate(generated['path'], [])


@pytest.mark.parametrize('max_dets_per_class', [0, -5, 2.5, True, '10'])
def test_k_must_be_a_positive_integer(generated, max_dets_per_class):
    from mmdet_bags.evaluation import (PerBinLVISMetric, evaluate_ap_fixed,
                                       top_k_per_class)
    with pytest.raises(ValueError, match='positive integer'):
        evaluate_ap_fixed(generated['path'], generated['results'][:5],
                          max_dets_per_class=max_dets_per_class)
    with pytest.raises(ValueError, match='positive integer'):
        top_k_per_class([0], [0.5], max_dets_per_class)
    with pytest.raises(ValueError, match='positive integer'):
        PerBinLVISMetric(ann_file=generated['path'],
                         groups=dict(instance_counts=generated['counts']),
                         ap_fixed=True,
                         ap_fixed_max_dets_per_class=max_dets_per_class)


def test_other_bad_results_are_named(generated):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    result = generated['results'][0]
    with pytest.raises(ValueError, match=r"results\[1\] lacks \['score'\]"):
        evaluate_ap_fixed(generated['path'], [
            result, {k: v for k, v in result.items() if k != 'score'}])
    with pytest.raises(ValueError, match=r'image_ids .*: \[12345\]'):
        evaluate_ap_fixed(generated['path'], [dict(result, image_id=12345)])
    with pytest.raises(ValueError, match='segmentation'):
        evaluate_ap_fixed(generated['path'], [result], iou_type='segm')
    with pytest.raises(ValueError, match="'bbox' or 'segm'"):
        evaluate_ap_fixed(generated['path'], [result], iou_type='keypoints')


# ------------------------------------------------------- top K, bounded
def test_top_k_breaks_ties_by_arrival_like_a_stable_sort():
    from mmdet_bags.evaluation import top_k_per_class
    labels = [1, 1, 1, 1, 2, 2, 1]
    scores = [0.5, 0.9, 0.5, 0.5, 0.1, 0.1, 0.7]
    # Class 1: 0.9 (index 1), 0.7 (6), then the first 0.5 (0).
    assert top_k_per_class(labels, scores, 3).tolist() == [0, 1, 4, 5, 6]
    assert top_k_per_class(labels, scores, 1).tolist() == [1, 4]
    # An explicit order: later indices arrived first.
    assert top_k_per_class(labels, scores, 3,
                           order=np.arange(7)[::-1]).tolist() == \
        [1, 3, 4, 5, 6]


def test_running_top_k_stays_bounded_and_equals_the_top_k_of_all():
    from mmdet_bags.evaluation import ClassTopK, top_k_per_class
    rng = np.random.default_rng(0)
    max_per_class, num_classes = 25, 7
    top_k = ClassTopK(max_per_class, min_buffer=0)
    all_labels, all_scores = [], []
    for batch in range(400):
        size = int(rng.integers(1, 60))
        labels = rng.integers(0, num_classes, size)
        # Coarse scores, so that ties happen and must go to arrival order.
        scores = rng.integers(0, 50, size) / 50
        order = np.arange(len(all_labels), len(all_labels) + size)
        top_k.add(dict(labels=labels, scores=scores, order=order,
                       payload=order * 10))
        all_labels.extend(labels)
        all_scores.extend(scores)
        # Kept top K plus candidates that beat the floor: at most twice the
        # final state plus one batch.
        assert len(top_k) <= 2 * max_per_class * num_classes + size
    result = top_k.result()
    expected = top_k_per_class(all_labels, all_scores, max_per_class)
    assert result['order'].tolist() == expected.tolist()
    assert (result['payload'] == expected * 10).all()
    assert np.bincount(result['labels']).max() == max_per_class
    assert len(all_labels) > 10 * len(expected)  # the bound mattered


def test_running_top_k_merges_ranks():
    from mmdet_bags.evaluation import ClassTopK, top_k_per_class
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 1000)
    scores = rng.random(1000)
    parts = []
    for rank in range(3):
        top_k = ClassTopK(30)
        mine = np.arange(rank, 1000, 3)
        top_k.add(dict(labels=labels[mine], scores=scores[mine], order=mine))
        parts.append(top_k.result())
    merged = ClassTopK.merged(parts + [None], 30)
    assert merged['order'].tolist() == top_k_per_class(labels, scores,
                                                       30).tolist()


# ------------------------------------------------------------ pooled AP
def test_pooled_ap_of_one_class_is_its_lvis_ap(generated):
    from lvis import LVIS, LVISEval, LVISResults

    from mmdet_bags.evaluation import per_category_average_precision
    from mmdet_bags.evaluation.pooled_ap import pooled_ap_of
    gt = LVIS(generated['path'])
    results = [dict(r) for r in generated['results']]
    lvis_eval = LVISEval(gt, LVISResults(gt, results, max_dets=-1), 'bbox')
    lvis_eval.run()
    category_ap = per_category_average_precision(lvis_eval.eval['precision'])
    pooled = pooled_ap_of(lvis_eval, {i: [i] for i in range(NUM_CATEGORIES)})
    for index in range(NUM_CATEGORIES):
        expected = -1.0 if np.isnan(category_ap[index]) else \
            category_ap[index]
        assert pooled[index] == pytest.approx(expected, abs=1e-12)


def test_pooled_ap_pools(generated):
    from mmdet_bags.evaluation import evaluate_ap_pooled
    pooled = evaluate_ap_pooled(generated['path'], generated['results'],
                                max_dets_per_class=20,
                                instance_counts=[1] * NUM_CATEGORIES,
                                bin_edges=(10, ))
    assert set(pooled) == {'AP', 'APr', 'APc', 'APf', 'AP1', 'AP2'}
    assert 0 < pooled['AP'] < 1
    assert pooled['AP1'] == pooled['AP']  # every class in bin 1
    assert pooled['AP2'] == -1.0  # empty pool


# ---------------------------------------------------------------- metric
def samples(per_image, image_ids=None):
    return [dict(img_id=image_id, ori_shape=(480, 640),
                 pred_instances={k: torch.from_numpy(v)
                                 for k, v in detections.items()})
            for image_id, detections in per_image
            if image_ids is None or image_id in image_ids]


def run_metric(metric, per_image, size=None, batch_size=5):
    metric.dataset_meta = dict(classes=tuple(
        f'class_{i}' for i in range(1, NUM_CATEGORIES + 1)))
    batch = samples(per_image)
    for start in range(0, len(batch), batch_size):
        metric.process({}, batch[start:start + batch_size])
    return metric.evaluate(size=len(batch) if size is None else size)


def test_metric_reports_fixed_ap_beside_the_standard_keys(generated):
    from mmdet.evaluation import LVISMetric

    from mmdet_bags.evaluation import PerBinLVISMetric, evaluate_ap_fixed
    plain = run_metric(LVISMetric(ann_file=generated['path']),
                       generated['per_image'])
    counts = dict(instance_counts=list(range(1, 2 * NUM_CATEGORIES, 2)),
                  bin_edges=(5, 12))
    metric = PerBinLVISMetric(ann_file=generated['path'], groups=counts,
                              ap_fixed=True, ap_fixed_max_dets_per_class=20)
    fixed_run = run_metric(metric, generated['per_image'])
    # The standard keys are LVISMetric's, although every image was cut to
    # 300 detections in process().
    assert {key: fixed_run[key] for key in plain} == plain
    expected = evaluate_ap_fixed(generated['path'], generated['results'],
                                 max_dets_per_class=20,
                                 instance_counts=counts['instance_counts'],
                                 bin_edges=(5, 12))
    for key, value in expected.items():
        assert fixed_run[f'lvis/bbox_APfixed{key[2:]}'] == \
            float(f'{value:.3f}'), key
    assert fixed_run['lvis/bbox_APfixed'] != fixed_run['lvis/bbox_AP']
    assert len(metric.results) == 0  # reset for the next evaluation
    # Evaluating again after a reset gives the same (no state left over).
    assert run_metric(metric, generated['per_image']) == fixed_run


def test_metric_drops_samples_beyond_size_like_collect_results(generated):
    """The sampler pads the dataset with at most one image per rank, at
    the end; ``evaluate(size)`` drops it, before it enters the top K."""
    from mmdet_bags.evaluation import PerBinLVISMetric, evaluate_ap_fixed
    metric = PerBinLVISMetric(
        ann_file=generated['path'],
        groups=dict(instance_counts=generated['counts']), ap_fixed=True,
        ap_fixed_max_dets_per_class=20)
    size = NUM_IMAGES - 1
    kept_ids = {image_id for image_id, _ in generated['per_image'][:size]}
    result = run_metric(metric, generated['per_image'], size=size)
    expected = evaluate_ap_fixed(
        generated['path'],
        [r for r in generated['results'] if r['image_id'] in kept_ids],
        max_dets_per_class=20)
    assert result['lvis/bbox_APfixed'] == float(f'{expected["AP"]:.3f}')
    # The last image matters here, so a leak would show.
    assert run_metric(metric, generated['per_image'])['lvis/bbox_APfixed'] \
        != result['lvis/bbox_APfixed']
    with pytest.raises(ValueError, match='only the last image'):
        run_metric(metric, generated['per_image'], size=NUM_IMAGES - 2)


def test_metric_options_that_cannot_work_are_refused(generated):
    from mmdet_bags.evaluation import PerBinLVISMetric
    groups = dict(instance_counts=generated['counts'])
    with pytest.raises(ValueError, match='proposal_fast'):
        PerBinLVISMetric(ann_file=generated['path'], groups=groups,
                         metric=['bbox', 'proposal_fast'], ap_fixed=True)
    with pytest.raises(ValueError, match="needs metric 'bbox'"):
        PerBinLVISMetric(ann_file=generated['path'], groups=groups,
                         metric='proposal', ap_fixed=True)
    metric = PerBinLVISMetric(ann_file=generated['path'], groups=groups,
                              ap_fixed=True)
    sample = samples(generated['per_image'][:1])[0]
    with pytest.raises(ValueError, match='image id 99999 .* not in the'):
        metric.process({}, [dict(sample, img_id=99999)])


def test_ranks_reduce_before_gathering_and_padding_is_dropped(
        generated, monkeypatch):
    """Two ranks as MMEngine's DefaultSampler deals 23 images to them
    (image i to rank i % 2, rank 1 padded with image 0): each keeps its own
    top K, rank 0 merges them, the padding never counts."""
    from mmdet_bags.evaluation import PerBinLVISMetric, evaluate_ap_fixed
    from mmdet_bags.evaluation.metrics import fixed_ap_metric
    size, world_size, parts = NUM_IMAGES - 1, 2, {}

    def gather(part, count, device, **kwargs):
        assert count == world_size
        parts[rank] = part[0]
        return [parts[0], parts[1]] if rank == 0 else part

    monkeypatch.setattr(fixed_ap_metric, 'collect_results', gather)
    for rank in (1, 0):
        monkeypatch.setattr(fixed_ap_metric, 'get_dist_info',
                            lambda rank=rank: (rank, world_size))
        monkeypatch.setattr(fixed_ap_metric, 'is_main_process',
                            lambda rank=rank: rank == 0)
        metric = PerBinLVISMetric(
            ann_file=generated['path'],
            groups=dict(instance_counts=generated['counts']), ap_fixed=True,
            ap_fixed_max_dets_per_class=20)
        indices = list(range(rank, size, world_size)) + \
            ([0] if rank == 1 else [])
        result = run_metric(metric, [generated['per_image'][i]
                                     for i in indices], size=size,
                            batch_size=3)
        assert parts[rank]['bbox']['labels'].size <= 20 * NUM_CATEGORIES
    kept_ids = {image_id for image_id, _ in generated['per_image'][:size]}
    expected = evaluate_ap_fixed(
        generated['path'],
        [r for r in generated['results'] if r['image_id'] in kept_ids],
        max_dets_per_class=20)
    assert result['lvis/bbox_APfixed'] == float(f'{expected["AP"]:.3f}')
