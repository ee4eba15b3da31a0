"""ChunkedLVISEval gives LVISEval's results exactly, a chunk of categories
at a time, and the metrics use it."""
import copy
from collections import defaultdict

import numpy as np
import pytest
from generated_lvis_results import generated_lvis_results

NUM_IMAGES = 16
NUM_CATEGORIES = 10


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('chunked') / 'val.json')
    data = generated_lvis_results(path, NUM_IMAGES, NUM_CATEGORIES, 60,
                                  seed=5)
    return path, data['results']


def evaluated(eval_class, path, results, iou_type='bbox', **kwargs):
    from lvis import LVIS, LVISResults
    gt = LVIS(path)
    lvis_eval = eval_class(gt, LVISResults(gt, copy.deepcopy(results)),
                           iou_type, **kwargs)
    lvis_eval.run()
    return lvis_eval


@pytest.mark.parametrize('chunk', [1, 3, 4, NUM_CATEGORIES, 1000])
def test_chunks_give_lvis_results_exactly(generated, chunk):
    from lvis import LVISEval

    from mmdet_bags.evaluation.chunked_lvis_eval import ChunkedLVISEval
    path, results = generated
    plain = evaluated(LVISEval, path, results)
    chunked = evaluated(ChunkedLVISEval, path, results,
                        categories_per_chunk=chunk)
    assert plain.results['AP'] > 0.05  # a real evaluation, not all -1
    assert dict(chunked.results) == dict(plain.results)
    for key in ('precision', 'recall'):
        assert chunked.eval[key].shape == plain.eval[key].shape
        assert np.array_equal(chunked.eval[key], plain.eval[key])
    assert chunked.eval['counts'] == plain.eval['counts']
    assert chunked.freq_groups == plain.freq_groups
    assert list(chunked.params.cat_ids) == list(plain.params.cat_ids)
    for index, pointer in plain.eval['dt_pointers'].items():
        for area, entry in pointer.items():
            other = chunked.eval['dt_pointers'][index][area]
            assert entry.keys() == other.keys()
            for name in entry:
                assert np.array_equal(entry[name], other[name])
    if chunk < NUM_CATEGORIES:  # per-chunk state is released
        assert len(chunked.eval_imgs) == 0 and len(chunked.ious) == 0


def test_chunk_size_must_be_a_positive_integer(generated):
    from lvis import LVIS

    from mmdet_bags.evaluation.chunked_lvis_eval import ChunkedLVISEval
    path, results = generated
    gt = LVIS(path)
    for bad in (0, -3, 2.5, True, '10'):
        with pytest.raises(ValueError, match='categories_per_chunk'):
            ChunkedLVISEval(gt, copy.deepcopy(results[:5]), 'bbox',
                            categories_per_chunk=bad)


def test_fixed_ap_evaluates_in_chunks(generated, monkeypatch):
    """evaluate_ap_fixed uses the chunked evaluator; same numbers as LVIS's
    evaluator in one piece."""
    import mmdet_bags.evaluation.chunked_lvis_eval as chunked_module
    from mmdet_bags.evaluation import evaluate_ap_fixed
    path, results = generated
    created = []
    original_init = chunked_module.ChunkedLVISEval.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        created.append(self)
    monkeypatch.setattr(chunked_module.ChunkedLVISEval, '__init__',
                        recording_init)
    monkeypatch.setattr(chunked_module, 'CATEGORIES_PER_CHUNK', 3)
    chunked = evaluate_ap_fixed(path, results, max_dets_per_class=50)
    assert len(created) == 1 and created[0].categories_per_chunk == 3
    monkeypatch.setattr(chunked_module, 'CATEGORIES_PER_CHUNK', 10 ** 6)
    whole = evaluate_ap_fixed(path, results, max_dets_per_class=50)
    assert chunked == whole


def test_per_bin_lvis_metric_evaluates_in_chunks(generated, monkeypatch):
    """PerBinLVISMetric's standard and per-bin numbers come from the chunked
    evaluator and equal MMDetection's LVISMetric's (LVIS's evaluator in one
    piece) on the same detections."""
    import torch
    from mmdet.evaluation import LVISMetric
    from mmdet.evaluation.metrics import lvis_metric

    import mmdet_bags.evaluation.chunked_lvis_eval as chunked_module
    from mmdet_bags.evaluation import PerBinLVISMetric
    path, results = generated
    by_image = defaultdict(list)
    for result in results:
        by_image[result['image_id']].append(result)
    samples = []
    for image_id, image_results in by_image.items():
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in
                              (r['bbox'] for r in image_results)])
        samples.append(dict(
            img_id=image_id, ori_shape=(256, 256),
            pred_instances=dict(
                bboxes=boxes,
                scores=torch.tensor([r['score'] for r in image_results]),
                labels=torch.tensor([r['category_id'] - 1
                                     for r in image_results]))))

    def evaluate(metric):
        metric.dataset_meta = dict(classes=[f'c{i}' for i in
                                            range(NUM_CATEGORIES)])
        metric.process({}, copy.deepcopy(samples))
        return metric.evaluate(len(samples))

    created = []
    original_evaluate = chunked_module.ChunkedLVISEval.evaluate

    def recording_evaluate(self):
        created.append(self.categories_per_chunk)
        return original_evaluate(self)
    monkeypatch.setattr(chunked_module.ChunkedLVISEval, 'evaluate',
                        recording_evaluate)
    monkeypatch.setattr(chunked_module, 'CATEGORIES_PER_CHUNK', 3)
    counts = {i + 1: 2 + 30 * i for i in range(NUM_CATEGORIES)}
    per_bin = evaluate(PerBinLVISMetric(
        ann_file=path, metric='bbox',
        groups=dict(instance_counts=[counts[i + 1]
                                     for i in range(NUM_CATEGORIES)]),
        bin_edges=(10, 100)))
    assert created == [3]
    assert lvis_metric.LVISEval.__name__ == 'LVISEval'  # restored
    plain = evaluate(LVISMetric(ann_file=path, metric='bbox'))
    assert plain['lvis/bbox_AP'] > 0.05
    assert {key: per_bin[key] for key in plain} == plain
