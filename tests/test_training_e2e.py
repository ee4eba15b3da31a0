"""Real configs of configs/bags trained for a few iterations through
MMEngine's Runner and through `mim train` / `mim test`, on a tiny generated
LVIS-format set, evaluated with the LVIS metric. CPU, ResNet-18 override."""
import os
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from detection_helpers import (generate_tiny_longtail, tiny_cfg,
                               train_baseline_then_decoupled, with_stuff_maps)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
BAGS = ROOT / 'configs' / 'bags'
BASELINES = ROOT / 'configs' / 'baselines'


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return generate_tiny_longtail(tmp_path_factory.mktemp('tiny_lvis'),
                                  seed=1)


def train(cfg: Config) -> dict:
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.message_hub.log_scalars


@pytest.mark.parametrize('config', [
    BAGS / 'bags_cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py',
], ids=lambda path: path.stem)
def test_runner_trains_and_evaluates_a_cascade(config, tiny_data, tmp_path):
    logs = train(tiny_cfg(config, tiny_data, str(tmp_path)))
    for stage in range(3):
        assert f'train/s{stage}.loss_cls' in logs
    assert 'val/lvis/bbox_AP' in logs and 'val/lvis/segm_AP' in logs
    assert (tmp_path / 'epoch_1.pth').is_file()


def test_runner_decoupled_faster_rcnn_from_its_baseline(tiny_data, tmp_path):
    """LVIS v0.5 Faster R-CNN: the plain baseline config, then the BAGS
    decoupled config from its checkpoint (classifier-only training)."""
    runs = train_baseline_then_decoupled(
        BASELINES / 'faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py',
        BAGS / 'bags_faster-rcnn_r50_fpn_decoupled-12e_lvis-v0.5.py',
        tiny_data, tmp_path)
    baseline, bags = runs['baseline'], runs['bags']
    assert 'val/lvis/bbox_AP' in runs['logs']
    assert torch.equal(baseline['backbone.conv1.weight'],
                       bags['backbone.conv1.weight'])
    assert torch.equal(baseline['roi_head.bbox_head.fc_reg.weight'],
                       bags['roi_head.bbox_head.fc_reg.weight'])
    non_empty_bins = sum(1 for size in tiny_data['group_sizes'] if size)
    assert bags['roi_head.bbox_head.fc_cls.weight'].shape[0] == \
        len(tiny_data['class_names']) + 1 + 1 + non_empty_bins


def test_runner_htc_without_semantic_branch_end_to_end(tiny_data, tmp_path):
    """Hybrid Task Cascade without the semantic branch (LVIS v0.5 X101-64x4d
    config, ResNet-18 here), BAGS end to end: every stage trains its BAGS
    classifier and mask head; boxes and masks are evaluated."""
    logs = train(tiny_cfg(BAGS / 'bags_htc-without-semantic_x101-64x4d_fpn_'
                          'random-20e_lvis-v0.5.py', tiny_data, str(tmp_path)))
    for stage in range(3):
        assert f'train/s{stage}.loss_cls' in logs
        assert f'train/s{stage}.loss_mask' in logs
    assert 'train/loss_semantic_seg' not in logs
    assert 'val/lvis/segm_AP' in logs


def test_runner_htc_with_semantic_branch_baseline_then_bags_decoupled(
        tiny_data, tmp_path):
    """The paper's HTC keeps its semantic branch, trained on COCO-stuff maps:
    the baseline trains it (loss_semantic_seg), and BAGS decoupled from that
    baseline (LVIS v0.5 X101-64x4d configs, ResNet-18 here) trains only the
    three stages' fc_cls while the frozen branch still reads the maps; boxes
    and masks are evaluated."""
    from mmengine.runner import Runner
    baseline_cfg = with_stuff_maps(
        tiny_cfg(BASELINES / 'htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
                 tiny_data, str(tmp_path / 'baseline')), tiny_data)
    logs = train(baseline_cfg)
    assert 'train/loss_semantic_seg' in logs
    assert logs['train/loss_semantic_seg'].current() > 0
    checkpoint = tmp_path / 'baseline' / 'epoch_1.pth'
    baseline = torch.load(str(checkpoint))['state_dict']
    assert any(key.startswith('roi_head.semantic_head.') for key in baseline)

    cfg = with_stuff_maps(
        tiny_cfg(BAGS / 'bags_htc_x101-64x4d_fpn_decoupled-12e_lvis-v0.5.py',
                 tiny_data, str(tmp_path / 'decoupled')), tiny_data)
    cfg.load_from = str(checkpoint)
    runner = Runner.from_cfg(cfg)
    runner.train()
    logs = runner.message_hub.log_scalars
    assert 'val/lvis/bbox_AP' in logs and 'val/lvis/segm_AP' in logs
    bags = torch.load(str(tmp_path / 'decoupled' /
                          'epoch_1.pth'))['state_dict']
    num_logits = len(tiny_data['class_names']) + 1 + 1 + sum(
        1 for size in tiny_data['group_sizes'] if size)
    for stage in range(3):
        key = f'roi_head.bbox_head.{stage}.fc_cls.weight'
        assert bags[key].shape[0] == num_logits
    for key, value in baseline.items():
        if 'fc_cls' not in key:
            assert torch.equal(value, bags[key]), key  # frozen


def mim(*args, cwd):
    command = [osp.join(osp.dirname(sys.executable), 'mim'), *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED='1'))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_mim_train_then_mim_test(tiny_data, tmp_path):
    """The README's commands on a real config, everything tiny set with
    --cfg-options, in fresh processes (so the checkpoint is loaded by a new
    interpreter, as users do)."""
    config = BAGS / 'bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'
    root = tiny_data['data_root'].rstrip('/') + '/'
    data_options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train' if loader.startswith('train') else 'val'
        data_options += [
            # LVIS-format files with their own 8 classes (LVISV1Dataset
            # would claim LVIS's 1203, which CheckGroupClassesHook refuses).
            f'{loader}.dataset.type=LVISFormatDataset',
            f'{loader}.dataset.data_root={root}',
            f'{loader}.dataset.ann_file=annotations/lvis_v1_{split}.json',
            f'{loader}.dataset.indices=2', f'{loader}.batch_size=1',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    data_options += [
        f'val_evaluator.ann_file={tiny_data["val_ann_file"]}',
        f'test_evaluator.ann_file={tiny_data["val_ann_file"]}'
    ]
    num_classes = len(tiny_data['class_names'])
    edges = ','.join(str(e) for e in tiny_data['bin_edges'])
    model_options = [
        'model.backbone.depth=18', 'model.backbone.init_cfg=None',
        'model.neck.in_channels=[64,128,256,512]',
        f'model.roi_head.bbox_head.num_classes={num_classes}',
        f'model.roi_head.mask_head.num_classes={num_classes}',
        f'model.roi_head.bbox_head.groups={tiny_data["train_ann_file"]}',
        f'model.roi_head.bbox_head.bin_edges=({edges})',
        'model.train_cfg.rcnn.sampler.num=64',
        # test-time sizes of tiny_cfg (tests/detection_helpers.py)
        'model.test_cfg.rpn.nms_pre=100', 'model.test_cfg.rpn.max_per_img=100',
        'model.test_cfg.rcnn.max_per_img=20'
    ]
    work_dir = tmp_path / 'work'
    output = mim('train', 'mmdet', str(config), '--work-dir', str(work_dir),
                 '--cfg-options', *model_options, *data_options,
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 'default_hooks.logger.interval=1', cwd=str(ROOT))
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file(), output[-3000:]
    # Test: the head takes its groups from the checkpoint (groups=None);
    # no annotation file is needed for the model.
    test_options = [o for o in model_options if '.groups=' not in o
                    and '.bin_edges=' not in o]
    output = mim('test', 'mmdet', str(config), '-C', str(checkpoint),
                 '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                 *test_options, 'model.roi_head.bbox_head.groups=None',
                 *data_options, cwd=str(ROOT))
    assert re.search(r'lvis/bbox_AP: [0-9.]+', output), output[-3000:]
    assert re.search(r'lvis/segm_AP: [0-9.]+', output), output[-3000:]
