"""One test per row of docs/errors.md: every bad input gets a clear error
that names the argument or file and what was expected."""
import json
import math

import pytest
import torch

from mmdet_bags.grouping import (GroupLayout, build_group_layout,
                                 count_instances_in_annotation_file)
from mmdet_bags.models.losses import GroupSoftmaxLoss

COUNTS = [5, 50, 500, 5000, 0, 20]


def loss(**kwargs):
    kwargs.setdefault('groups', dict(instance_counts=COUNTS))
    return GroupSoftmaxLoss(num_classes=kwargs.pop('num_classes', 6),
                            **kwargs)


def write(path, content):
    path.write_text(content if isinstance(content, str) else
                    json.dumps(content))
    return str(path)


def test_row_num_classes_disagrees_with_groups():
    with pytest.raises(ValueError, match=r'num_classes=80 .* describe 1203 '
                       r'classes'):
        GroupSoftmaxLoss(num_classes=80, groups='lvis_v1')


def test_row_annotation_file_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='train.json'):
        build_group_layout(dict(ann_file=str(tmp_path / 'train.json')))


def test_row_annotation_file_not_json(tmp_path):
    path = write(tmp_path / 'train.json', 'not json at all')
    with pytest.raises(ValueError, match=r"train.json' is not valid JSON"):
        count_instances_in_annotation_file(path)


@pytest.mark.parametrize('content, missing', [
    (dict(annotations=[]), 'categories'),
    (dict(categories=[dict(id=1, name='a')]), 'annotations'),
])
def test_row_annotation_file_without_categories_or_annotations(
        tmp_path, content, missing):
    path = write(tmp_path / 'train.json', content)
    with pytest.raises(ValueError, match=f'has no "{missing}" list'):
        count_instances_in_annotation_file(path)


def test_row_annotation_with_unknown_category_id(tmp_path):
    path = write(tmp_path / 'train.json', dict(
        categories=[dict(id=1, name='a')],
        annotations=[dict(id=1, image_id=1, category_id=9)]))
    with pytest.raises(ValueError, match=r'category ids \[9\] that are not '
                       r'in its "categories" list'):
        count_instances_in_annotation_file(path)


@pytest.mark.parametrize('counts', [[3, -2], [3, 1.5], [3, math.nan]])
def test_row_counts_negative_or_not_integer(counts):
    with pytest.raises(ValueError, match=r'instance_counts\[1\] must be a '
                       'non-negative integer'):
        GroupLayout.from_counts(counts)


@pytest.mark.parametrize('edges, expected', [
    ((100, 10), 'strictly ascending'),
    ((10, 10), 'strictly ascending'),
    ((0, 10), 'positive integers'),
])
def test_row_bin_edges_unsorted_duplicated_or_not_positive(edges, expected):
    with pytest.raises(ValueError, match=expected):
        build_group_layout(dict(instance_counts=COUNTS, bin_edges=edges))


def test_row_dataset_classes_do_not_match_built_in_table():
    from mmdet.datasets import LVISV05Dataset
    with pytest.raises(ValueError, match="do not match built-in table "
                       "'lvis_v1'"):
        build_group_layout('lvis_v1',
                           classes=LVISV05Dataset.METAINFO['classes'][:1203])


def test_row_dataset_classes_are_not_the_groups_classes():
    from types import SimpleNamespace

    from mmdet.datasets import LVISV05Dataset

    from mmdet_bags.engine import CheckGroupClassesHook
    model = torch.nn.Module()
    model.loss_cls = GroupSoftmaxLoss(num_classes=1203, groups='lvis_v1')
    dataset = LVISV05Dataset(ann_file='', lazy_init=True)
    runner = SimpleNamespace(
        model=model,
        train_loop=SimpleNamespace(dataloader=SimpleNamespace(
            dataset=dataset)))
    with pytest.raises(ValueError, match=r"do not match the training dataset "
                       r"\(LVISV05Dataset, 1230 classes\): loss_cls \(groups "
                       r"from built-in table 'lvis_v1'\): 1203 classes in the "
                       r"groups but 1230 in the dataset"):
        CheckGroupClassesHook().before_train(runner)


@pytest.mark.parametrize('ratio', [-1.0, math.nan, math.inf, '8'])
def test_row_others_sample_ratio_negative_or_nan(ratio):
    with pytest.raises(ValueError, match='others_sample_ratio must be a '
                       r'finite number >= 0'):
        loss(others_sample_ratio=ratio)


def test_row_checkpoint_groups_differ_from_config():
    state = loss().state_dict()
    other = loss(groups=dict(instance_counts=[50, 5, 500, 5000, 0, 20]))
    with pytest.raises(RuntimeError, match='different BAGS groups'):
        other.load_state_dict(state)


@pytest.mark.parametrize('labels', [[0, 7], [-1, 0]])
def test_row_labels_outside_zero_to_num_classes(labels):
    with pytest.raises(RuntimeError, match=r'labels must be in \[0, 6\]'):
        loss()(torch.zeros(2, 12), torch.tensor(labels))


def test_row_logits_of_the_wrong_width():
    with pytest.raises(ValueError, match=r'expects logits of shape \(N, 12\)'):
        loss()(torch.zeros(2, 7), torch.tensor([0, 6]))


def test_row_non_finite_logits_give_a_visible_nan_loss():
    """Documented behaviour: NaN/inf logits are not hidden; the loss and the
    affected group's logged term become NaN (MMEngine logs show it)."""
    logits = torch.zeros(3, 12)
    logits[0, 3] = math.nan  # class 0 column, group 1
    result = loss(others_sample_ratio=None)(logits, torch.tensor([0, 6, 1]))
    assert math.isnan(result['loss_cls'].item())
    assert math.isnan(result['bags_group1_ce'].item())
    assert not math.isnan(result['bags_group0_ce'].item())


def test_row_training_without_groups():
    with pytest.raises(RuntimeError, match='has no groups'):
        GroupSoftmaxLoss(num_classes=6)(torch.zeros(1, 8), torch.tensor([0]))


def test_row_sigmoid_classifier_requested():
    with pytest.raises(ValueError, match='use_sigmoid=True is not supported'):
        loss(use_sigmoid=True)


def test_row_unknown_groups_name():
    with pytest.raises(ValueError, match="unknown built-in groups 'lvis'"):
        build_group_layout('lvis')


def test_row_bags_head_given_another_loss():
    from mmdet.registry import MODELS
    with pytest.raises(ValueError, match='needs a GroupSoftmaxLoss classifier'
                       ', but loss_cls is SeesawLoss'):
        MODELS.build(dict(type='BAGSBBoxHead', num_classes=6,
                          groups=dict(instance_counts=COUNTS),
                          loss_cls=dict(type='SeesawLoss', num_classes=6)))


@pytest.fixture(scope='module')
def lvis_val(tmp_path_factory):
    """A 12-image LVIS-format file and one correct result."""
    from mmdet_bags.analysis.fixed_ap_benchmark import generate_lvis_val_like
    path = str(tmp_path_factory.mktemp('lvis') / 'val.json')
    generate_lvis_val_like(path, num_images=12, num_categories=8, seed=0)
    annotation = json.load(open(path))['annotations'][0]
    result = dict(image_id=annotation['image_id'],
                  category_id=annotation['category_id'],
                  bbox=annotation['bbox'], score=0.9)
    return path, result


def test_row_fixed_ap_results_empty(lvis_val):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    with pytest.raises(ValueError, match='results are empty: Fixed AP needs '
                       'detections'):
        evaluate_ap_fixed(lvis_val[0], [])


def test_row_fixed_ap_results_name_unknown_categories(lvis_val):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    path, result = lvis_val
    with pytest.raises(ValueError, match=r"results name 1 category_ids "
                       r"that are not in the annotation file's "
                       r"categories: \[999\]"):
        evaluate_ap_fixed(path, [result, dict(result, category_id=999)])


def test_row_fixed_ap_k_not_a_positive_integer(lvis_val):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    for k in (0, -1, 2.5):
        with pytest.raises(ValueError, match='max_dets_per_class must be a '
                           'positive integer'):
            evaluate_ap_fixed(lvis_val[0], [lvis_val[1]],
                              max_dets_per_class=k)


def test_row_fixed_ap_result_lacks_a_key_or_has_a_nan_score(lvis_val):
    from mmdet_bags.evaluation import evaluate_ap_fixed
    path, result = lvis_val
    lacking = {k: v for k, v in result.items() if k != 'score'}
    with pytest.raises(ValueError, match=r"results\[1\] lacks \['score'\]"):
        evaluate_ap_fixed(path, [result, lacking])
    with pytest.raises(ValueError, match='results hold NaN scores'):
        evaluate_ap_fixed(path, [dict(result, score=float('nan'))])


def test_row_fixed_ap_metric_with_proposal_fast(lvis_val):
    from mmdet_bags.evaluation import PerBinLVISMetric
    with pytest.raises(ValueError, match="'proposal_fast' needs every "
                       'proposal'):
        PerBinLVISMetric(ann_file=lvis_val[0], metric=['bbox',
                                                        'proposal_fast'],
                         groups=dict(instance_counts=[1] * 8), ap_fixed=True)


def test_row_checkpoint_to_convert_unreadable(tmp_path):
    from mmdet_bags.converters import (CheckpointConversionError,
                                       load_checkpoint_file)
    path = tmp_path / 'released.pth'
    path.write_bytes(b'<html>not found</html>')
    with pytest.raises(CheckpointConversionError, match='released.pth is not '
                       'a readable PyTorch checkpoint'):
        load_checkpoint_file(str(path))
    with pytest.raises(CheckpointConversionError,
                       match='no such checkpoint file'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_every_row_of_the_table_has_a_test():
    from pathlib import Path
    table = (Path(__file__).parents[1] / 'docs' / 'errors.md').read_text()
    rows = [line for line in table.splitlines()
            if line.startswith('| ') and not line.startswith('| bad input')]
    tests = [name for name in globals() if name.startswith('test_row_')]
    # The tampered-checkpoint and no-load_from rows are tested with the
    # compatibility fixes and the hook (tests/test_compat.py,
    # tests/models/test_bags_in_detectors.py).
    assert len(rows) <= len(tests) + 2, (len(rows), len(tests))
