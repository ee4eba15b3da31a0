"""A user's own long-tail dataset in COCO format: generated COCO files,
per-bin AP for any COCO-format set, bin-edge suggestions, and the shipped
custom config trained and evaluated end to end."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from detection_helpers import (generate_tiny_longtail, tiny_cfg,
                               train_baseline_then_decoupled)
from mmdet_bags.analysis import check_bin_edges, suggest_bin_edges
from mmdet_bags.grouping import count_instances_in_annotation_file

ROOT = Path(__file__).parents[1]
CUSTOM_CONFIG = ROOT / 'configs' / 'custom' / \
    'bags_mask-rcnn_r50_fpn_1x_my-longtail-coco.py'


@pytest.fixture(scope='module')
def coco_data(tmp_path_factory):
    return generate_tiny_longtail(tmp_path_factory.mktemp('own_coco'),
                                  seed=5, coco=True)


def test_generated_coco_files_are_plain_coco_with_the_same_objects(
        coco_data):
    from mmdet.datasets import CocoDataset
    for split in ('train', 'val'):
        with open(coco_data[f'{split}_ann_file']) as file:
            coco = json.load(file)
        with open(coco_data[f'lvis_{split}_ann_file']) as file:
            lvis = json.load(file)
        assert set(coco) == {'info', 'licenses', 'images', 'annotations',
                             'categories'}
        assert {key for image in coco['images'] for key in image} == \
            {'id', 'file_name', 'height', 'width'}
        assert {key for category in coco['categories'] for key in category} \
            == {'id', 'name', 'supercategory'}
        assert [a['bbox'] for a in coco['annotations']] == \
            [a['bbox'] for a in lvis['annotations']]
    dataset = CocoDataset(
        data_root=coco_data['data_root'],
        ann_file=coco_data['train_ann_file'],
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=coco_data['class_names']), pipeline=[])
    labels = torch.tensor([instance['bbox_label'] for item in
                           dataset.load_data_list() for instance in
                           item['instances']])
    counts = torch.bincount(labels, minlength=len(coco_data['class_names']))
    assert tuple(counts.tolist()) == count_instances_in_annotation_file(
        coco_data['train_ann_file']).instance_counts
    assert tuple(counts.tolist()) == tuple(coco_data['instance_counts'])


# ------------------------------------------------------- per-bin COCO AP
def write_json(path, content):
    path.write_text(json.dumps(content))
    return str(path)


def boxes_file(path, counts_by_category, images=1):
    """A COCO file with ``counts_by_category[id]`` boxes of each category,
    spread over ``images`` images of 100x100."""
    annotations = []
    for category_id, count in counts_by_category.items():
        for index in range(count):
            annotations.append(dict(
                id=len(annotations) + 1, image_id=1 + index % images,
                category_id=category_id,
                bbox=[10 * (category_id % 5), 10, 30, 40], area=1200.0,
                iscrowd=0))
    return write_json(path, dict(
        images=[dict(id=i, file_name=f'{i}.jpg', height=100, width=100)
                for i in range(1, images + 1)],
        annotations=annotations,
        categories=[dict(id=i, name=f'c{i}') for i in counts_by_category]))


def test_per_bin_coco_ap_is_the_mean_ap_of_each_bins_categories(tmp_path):
    """Category ids 3, 7, 9 with 2, 50 and 500 training boxes fall in bins
    [0, 10), [10, 100), [100, 1000); [1000, inf) is empty. Perfect
    detections for 3 and 9, none for 7: AP1 = AP3 = 1, AP2 = 0, AP4 = -1."""
    from mmdet.evaluation.metrics import coco_metric

    from mmdet_bags.evaluation import PerBinCocoMetric
    train = boxes_file(tmp_path / 'train.json', {3: 2, 7: 50, 9: 500},
                       images=50)
    val = boxes_file(tmp_path / 'val.json', {3: 1, 7: 1, 9: 1})
    metric = PerBinCocoMetric(ann_file=val, train_ann_file=train,
                              bin_edges=(10, 100, 1000),
                              outfile_prefix=str(tmp_path / 'results'))
    metric.dataset_meta = dict(classes=('c3', 'c7', 'c9'))
    # GT boxes (x, y, w, h) = (10 * (id % 5), 10, 30, 40) as (x1, y1, x2, y2)
    boxes = torch.tensor([[30., 10., 60., 50.], [40., 10., 70., 50.]])
    metric.process({}, [dict(
        img_id=1, ori_shape=(100, 100),
        pred_instances=dict(bboxes=boxes, scores=torch.tensor([0.9, 0.8]),
                            labels=torch.tensor([0, 2])))])
    results = metric.compute_metrics(metric.results)
    assert results['bbox_mAP'] == pytest.approx(2 / 3, abs=1e-3)
    assert [results[f'bbox_AP{i}'] for i in range(1, 5)] == \
        [1.0, 0.0, 1.0, -1.0]
    assert coco_metric.COCOeval.__name__ == 'COCOeval'  # patch undone


def test_per_bin_coco_metric_names_categories_without_training_count(
        tmp_path):
    from mmdet_bags.evaluation import PerBinCocoMetric
    train = boxes_file(tmp_path / 'train.json', {3: 2, 7: 50})
    val = boxes_file(tmp_path / 'val.json', {3: 1, 7: 1, 9: 1})
    with pytest.raises(ValueError, match=r'category ids \[9\]'):
        PerBinCocoMetric(ann_file=val, train_ann_file=train)


# --------------------------------------------------------- bin edges
def test_default_edges_are_checked_for_empty_and_tiny_groups():
    counts = [1, 1, 2, 3, 5, 12, 20, 45, 82, 259]
    problems = check_bin_edges(counts, (10, 100, 1000))
    assert problems == [
        'bin [100, 1000) holds only 1 classes (< 2)',
        'bin [1000, inf) is empty (no class has that many training '
        'instances): its group is dropped']
    assert check_bin_edges(counts, (3, 30)) == []


@pytest.mark.parametrize('counts, num_bins, expected', [
    # 12 classes, 4 equal parts of 3: edges = first count of parts 2..4.
    (list(range(1, 13)), 4, (4, 7, 10)),
    # Ties stay together: an edge at the smallest count is dropped.
    ([1, 1, 1, 1, 1, 1, 5, 6, 7, 50, 60, 70], 4, (5, 50)),
    ([1, 1, 1, 1, 3, 5, 12, 30, 82, 259], 4, (5, 82)),
    # 6 classes in 4 parts would give a 1-class group (< 2): 3 bins.
    ([1, 2, 3, 4, 5, 6], 4, (3, 5)),
    ([0, 0, 0, 4, 4, 4], 2, (4, )),
])
def test_suggested_edges_cut_the_sorted_classes_into_equal_parts(
        counts, num_bins, expected):
    assert suggest_bin_edges(counts, num_bins) == expected
    assert check_bin_edges(counts, expected) == []


def test_suggestion_refuses_counts_it_cannot_split():
    with pytest.raises(ValueError, match='every class has the same count'):
        suggest_bin_edges([7, 7, 7, 7])
    with pytest.raises(ValueError, match='at least 2 classes'):
        suggest_bin_edges([7])


def test_group_stats_tool_suggests_edges_for_a_small_coco_set(tmp_path):
    from mmdet_bags.datasets import generate_longtail_coco
    data = generate_longtail_coco(str(tmp_path / 'few'), preset='tiny',
                                  seed=0, num_classes=10,
                                  num_train_images=40, num_val_images=16,
                                  progress=False)
    out = tmp_path / 'groups.json'
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'analysis' / 'group_stats.py'),
         data['train_ann_file'], '--json', str(out)],
        capture_output=True, text=True, check=True)
    assert 'do not suit these counts' in result.stdout
    assert 'is empty' in result.stdout
    report = json.loads(out.read_text())
    counts = count_instances_in_annotation_file(
        data['train_ann_file']).instance_counts
    assert report['suggested_bin_edges'] == list(suggest_bin_edges(counts))
    assert f"bin_edges={tuple(report['suggested_bin_edges'])}" in \
        result.stdout


# ------------------------------------------------ the custom config, trained
def test_custom_config_inherits_mmdet_coco_and_builds():
    from mmengine.config import Config
    cfg = Config.fromfile(str(CUSTOM_CONFIG))
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.val_evaluator.type == 'PerBinCocoMetric'
    head = cfg.model.roi_head.bbox_head
    assert head.num_classes == len(cfg.classes) == 32
    assert head.groups.ann_file == cfg.val_evaluator.train_ann_file
    assert head.groups.classes == cfg.train_dataloader.dataset.metainfo[
        'classes']


@pytest.mark.slow
def test_custom_config_trains_and_evaluates_per_bin_coco_ap(
        coco_data, tmp_path):
    from mmengine.runner import Runner
    cfg = tiny_cfg(CUSTOM_CONFIG, coco_data, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    logs = runner.message_hub.log_scalars
    head = runner.model.roi_head.bbox_head
    assert head.layout.instance_counts == tuple(coco_data['instance_counts'])
    for kind in ('bbox', 'segm'):
        assert f'val/coco/{kind}_mAP' in logs
        for index in range(1, len(coco_data['bin_edges']) + 2):
            value = logs[f'val/coco/{kind}_AP{index}'].current()
            assert value == -1.0 or 0.0 <= value <= 1.0


@pytest.mark.slow
def test_coco_lt_baseline_then_bags_decoupled_train_and_evaluate(
        coco_data, tmp_path):
    """The COCO-LT Mask R-CNN configs on generated COCO-format data (its
    own bins here): the plain baseline, then BAGS decoupled from it; only
    fc_cls changes and per-bin COCO AP is logged."""
    coco_lt = ROOT / 'configs' / 'coco_lt'
    runs = train_baseline_then_decoupled(
        coco_lt / 'mask-rcnn_r50_fpn_random-1x_coco-lt.py',
        coco_lt / 'bags_mask-rcnn_r50_fpn_decoupled-12e_coco-lt.py',
        coco_data, tmp_path)
    assert 'val/coco/segm_AP1' in runs['logs']
    baseline, bags = runs['baseline'], runs['bags']
    for name in ('roi_head.bbox_head.fc_reg.weight',
                 'roi_head.mask_head.conv_logits.weight'):
        assert torch.equal(baseline[name], bags[name])
    assert bags['roi_head.bbox_head.fc_cls.weight'].shape[0] == \
        runs['runner'].model.roi_head.bbox_head.layout.num_logits
