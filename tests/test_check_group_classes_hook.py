"""CheckGroupClassesHook: a dataset whose classes are not the BAGS groups'
is refused before training/testing, not trained silently wrong."""
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from detection_helpers import generate_tiny_longtail, tiny_cfg
from mmdet_bags.engine import CheckGroupClassesHook
from mmdet_bags.grouping import class_name_mismatch
from mmdet_bags.models.losses import GroupSoftmaxLoss

CONFIG = (Path(__file__).parents[1] / 'configs' / 'bags' /
          'bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py')


def fake_runner(loss, dataset):
    model = torch.nn.Module()
    model.roi_head = torch.nn.Module()
    model.roi_head.loss_cls = loss
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
    return SimpleNamespace(model=model, train_loop=loop, val_loop=loop,
                           test_loop=loop)


def dataset_with(classes):
    return SimpleNamespace(metainfo=dict(classes=tuple(classes)))


@pytest.mark.parametrize('groups, classes, file_order, expected', [
    (['a', 'b', 'c'], ['a', 'b', 'c'], False, None),
    (['speaker_(stero_equipment)'], ['speaker_(stereo_equipment)'], False,
     None),
    (['a', 'b', 'c'], ['c', 'a', 'b'], True, None),
    (['a', 'b', 'c'], ['a', 'c', 'b'], False,
     "label 1 is 'b' in the groups but 'c' in the dataset"),
    (['a', 'b'], ['a', 'b', 'c'], False,
     '2 classes in the groups but 3 in the dataset'),
    (['a', 'b', 'c'], ['a', 'b', 'x'], True,
     "in the groups but not in the dataset: ['c']; in the dataset but not "
     "in the groups: ['x']"),
])
def test_mismatch_rules(groups, classes, file_order, expected):
    reason = class_name_mismatch(groups, classes, any_order=file_order)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason


def test_lvis_v1_table_matches_mmdet_lvis_v1_dataset_but_not_v05():
    from mmdet.datasets import LVISV05Dataset, LVISV1Dataset
    from mmengine.dataset import ClassBalancedDataset
    loss = GroupSoftmaxLoss(num_classes=1203, groups='lvis_v1')
    v1 = LVISV1Dataset(ann_file='', lazy_init=True)
    hook = CheckGroupClassesHook()
    hook.before_train(fake_runner(loss, v1))  # 'stero' alias accepted
    wrapped = ClassBalancedDataset(v1, oversample_thr=1e-3, lazy_init=True)
    hook.before_val(fake_runner(loss, wrapped))
    # Same number of classes, other names: the first 1203 v0.5 classes.
    v05_names = LVISV05Dataset.METAINFO['classes'][:1203]
    with pytest.raises(ValueError, match='do not match the test dataset'):
        hook.before_test(fake_runner(loss, dataset_with(v05_names)))


def test_explicit_counts_are_checked_by_number_only():
    loss = GroupSoftmaxLoss(num_classes=3,
                            groups=dict(instance_counts=[1, 50, 500]))
    hook = CheckGroupClassesHook()
    hook.before_train(fake_runner(loss, dataset_with('xyz')))
    with pytest.raises(ValueError, match='3 classes in the groups but 2 in '
                       "the dataset"):
        hook.before_train(fake_runner(loss, dataset_with('xy')))


def test_not_strict_only_warns_and_no_classes_is_skipped():
    loss = GroupSoftmaxLoss(num_classes=3,
                            groups=dict(instance_counts=[1, 50, 500]))
    CheckGroupClassesHook(strict=False).before_train(
        fake_runner(loss, dataset_with('xy')))
    CheckGroupClassesHook().before_train(
        fake_runner(loss, SimpleNamespace(metainfo={})))


def test_checkpoint_groups_are_skipped():
    loss = GroupSoftmaxLoss(num_classes=3, groups=None)
    CheckGroupClassesHook().before_train(
        fake_runner(loss, dataset_with('xy')))


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return generate_tiny_longtail(tmp_path_factory.mktemp('hook_data'),
                                  seed=4)


def test_shipped_config_refuses_renamed_classes_before_training(
        tiny_data, tmp_path):
    """The groups are counted from the generated training file; a dataset
    that calls one class otherwise (here through metainfo) is refused
    before any iteration, and the same config with the right names trains."""
    from mmengine.runner import Runner
    cfg = tiny_cfg(CONFIG, tiny_data, str(tmp_path / 'bad'))
    hooks = [hook['type'] for hook in cfg.custom_hooks]
    assert 'CheckGroupClassesHook' in hooks
    renamed = list(tiny_data['class_names'])
    renamed[3] = 'not_a_generated_class'
    cfg.train_dataloader.dataset.metainfo = dict(classes=renamed)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='not_a_generated_class'):
        runner.train()
    assert runner.iter == 0
