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

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
BAGS = ROOT / 'configs' / 'bags'
BASELINES = ROOT / 'configs' / 'baselines'


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    from mmdet_bags.datasets import generate_longtail_lvis
    root = tmp_path_factory.mktemp('tiny_lvis')
    return generate_longtail_lvis(str(root), preset='tiny', seed=1,
                                  num_classes=8, num_train_images=16,
                                  num_val_images=8,
                                  min_val_instances_per_class=2,
                                  progress=False)


def tiny_cfg(config: Path, data: dict, work_dir: str) -> Config:
    """The config, shrunk: ResNet-18, 128 px, 4 images, 1 epoch."""
    cfg = Config.fromfile(str(config))
    num_classes = len(data['class_names'])
    root = data['data_root'].rstrip('/') + '/'
    cfg.work_dir = work_dir
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    heads = cfg.model.roi_head.bbox_head
    for head in heads if isinstance(heads, list) else [heads]:
        head.num_classes = num_classes
        if head.type == 'BAGSBBoxHead':
            head.groups = data['train_ann_file']
            head.bin_edges = tuple(data['bin_edges'])
    if 'mask_head' in cfg.model.roi_head:
        cfg.model.roi_head.mask_head.num_classes = num_classes
    rcnn_train = cfg.model.train_cfg.rcnn
    for stage in rcnn_train if isinstance(rcnn_train, list) else [rcnn_train]:
        stage.sampler.num = 64
    with_mask = 'mask_head' in cfg.model.roi_head
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=with_mask),
        dict(type='Resize', scale=(128, 128), keep_ratio=True),
        dict(type='PackDetInputs')
    ]
    split_prefix = dict(train='', val='')
    if cfg.train_dataloader.dataset.type == 'LVISV05Dataset':
        # v0.5 datasets join file_name to the split folder.
        split_prefix = dict(train='train2017/', val='val2017/')
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader),
                          ('val', cfg.test_dataloader)):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            data_root=root, ann_file=f'annotations/lvis_v1_{split}.json',
            data_prefix=dict(img=split_prefix[split]), indices=4,
            pipeline=pipeline, metainfo=dict(classes=data['class_names']))
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = data['val_ann_file']
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    return cfg


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
    baseline_dir = tmp_path / 'baseline'
    train(tiny_cfg(BASELINES / 'faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py',
                   tiny_data, str(baseline_dir)))
    baseline = torch.load(str(baseline_dir / 'epoch_1.pth'))['state_dict']
    cfg = tiny_cfg(BAGS / 'bags_faster-rcnn_r50_fpn_decoupled-12e_lvis-v0.5.py',
                   tiny_data, str(tmp_path / 'bags'))
    cfg.load_from = str(baseline_dir / 'epoch_1.pth')
    logs = train(cfg)
    assert 'val/lvis/bbox_AP' in logs
    bags = torch.load(str(tmp_path / 'bags' / 'epoch_1.pth'))['state_dict']
    assert torch.equal(baseline['backbone.conv1.weight'],
                       bags['backbone.conv1.weight'])
    assert torch.equal(baseline['roi_head.bbox_head.fc_reg.weight'],
                       bags['roi_head.bbox_head.fc_reg.weight'])
    non_empty_bins = sum(1 for size in tiny_data['group_sizes'] if size)
    assert bags['roi_head.bbox_head.fc_cls.weight'].shape[0] == \
        len(tiny_data['class_names']) + 1 + 1 + non_empty_bins


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
        'model.train_cfg.rcnn.sampler.num=64'
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
