""""Reproduce the paper" is two configs: the paper's first stage (a COCO
detector fine-tuned on LVIS) and BAGS decoupled from it. Both run here
through MMEngine's Runner on a tiny generated set (ResNet-18, 128 px), with
the recipe's optimiser, warm-up and clipping kept; an 80-class checkpoint
plays MMDetection's COCO detector."""
import logging
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from detection_helpers import generate_tiny_longtail, tiny_cfg

ROOT = Path(__file__).parents[1]
PAPER = ROOT / 'configs' / 'paper'
FIRST_STAGE = PAPER / 'mask-rcnn_r50_fpn_coco-init-1x_lvis-v1.py'
SECOND_STAGE = PAPER / 'bags_mask-rcnn_r50_fpn_decoupled-12e-coco-init_lvis-v1.py'
CLASS_LAYERS = ('roi_head.bbox_head.fc_cls.weight',
                'roi_head.bbox_head.fc_cls.bias',
                'roi_head.bbox_head.fc_reg.weight',
                'roi_head.bbox_head.fc_reg.bias',
                'roi_head.mask_head.conv_logits.weight',
                'roi_head.mask_head.conv_logits.bias')


class LogRecords(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def mmengine_log():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    handler = LogRecords()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def coco_like_checkpoint(data: dict, path: Path) -> dict:
    """The tiny first-stage model built for 80 classes, saved as a
    checkpoint: what MMDetection's COCO zoo file is to the real config."""
    from mmdet.registry import MODELS
    cfg = tiny_cfg(FIRST_STAGE, data, str(path.parent))
    cfg.model.roi_head.bbox_head.num_classes = 80
    cfg.model.roi_head.mask_head.num_classes = 80
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.state_dict()
    torch.save(dict(state_dict=state, meta=dict()), str(path))
    return state


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return generate_tiny_longtail(tmp_path_factory.mktemp('paper'), seed=3)


def test_finetune_hook_keeps_class_layers_initialised_in_one_line(
        tiny_data, tmp_path, mmengine_log):
    from mmdet.registry import MODELS
    from mmengine.runner import load_checkpoint

    from mmdet_bags.engine import FinetuneFromOtherClassesHook
    coco = coco_like_checkpoint(tiny_data, tmp_path / 'coco.pth')
    cfg = tiny_cfg(FIRST_STAGE, tiny_data, str(tmp_path))
    torch.manual_seed(2)
    model = MODELS.build(cfg.model)
    model.init_weights()
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    class Runner:  # what the hook reads of MMEngine's Runner
        pass
    runner = Runner()
    runner.model = model
    FinetuneFromOtherClassesHook().before_run(runner)
    load_checkpoint(model, str(tmp_path / 'coco.pth'), map_location='cpu',
                    strict=False, logger='current')
    loaded = model.state_dict()
    for key in CLASS_LAYERS:
        assert coco[key].shape[0] != loaded[key].shape[0]
        assert torch.equal(loaded[key], initial[key]), key
    for key, value in loaded.items():
        if key not in CLASS_LAYERS:
            assert torch.equal(value, coco[key]), key
    lines = [m for m in mmengine_log if 'FinetuneFromOtherClassesHook' in m]
    assert len(lines) == 1
    for key in CLASS_LAYERS:
        assert key in lines[0]
    assert 'fc_cls.weight (81, 1024) -> (9, 1024)' in lines[0]  # COCO -> 8
    assert not any('size mismatch' in m for m in mmengine_log)
    # Without the hook MMEngine warns about every such tensor.
    mmengine_log.clear()
    plain = MODELS.build(cfg.model)
    load_checkpoint(plain, str(tmp_path / 'coco.pth'), map_location='cpu',
                    strict=False, logger='current')
    assert any('size mismatch' in m for m in mmengine_log)


def test_class_dependent_mismatches_only_take_the_output_dimension():
    from mmdet_bags.engine.hooks import class_dependent_mismatches
    model = {'a': torch.zeros(9, 4), 'b': torch.zeros(3, 4),
             'c': torch.zeros(3, 5), 'd': torch.zeros(2)}
    checkpoint = {'a': torch.zeros(81, 4), 'b': torch.zeros(3, 4),
                  'c': torch.zeros(3, 6), 'd': torch.zeros(7),
                  'unknown': torch.zeros(1)}
    assert class_dependent_mismatches(model, checkpoint) == ['a', 'd']
    assert class_dependent_mismatches(model, checkpoint, ('a', )) == ['d']


def recipe_kept(cfg: Config, recipe: Config) -> Config:
    """tiny_cfg replaces the schedule for speed; put the recipe's back."""
    cfg.param_scheduler = recipe.param_scheduler
    cfg.optim_wrapper = recipe.optim_wrapper
    return cfg


def first_lr_and_grad_norm(runner):
    scalars = runner.message_hub.log_scalars
    return scalars['train/lr'].data[0][0], scalars['train/grad_norm']


def run_log(work_dir: Path) -> str:
    """The text log MMEngine's Runner wrote under ``work_dir``."""
    logs = sorted(work_dir.glob('*/*.log'))
    assert len(logs) == 1, logs
    return logs[0].read_text()


@pytest.mark.slow
def test_reproduce_the_paper_in_two_configs(tiny_data, tmp_path):
    from mmengine.runner import Runner
    coco = coco_like_checkpoint(tiny_data, tmp_path / 'coco.pth')
    first_recipe = Config.fromfile(str(FIRST_STAGE))
    cfg = recipe_kept(tiny_cfg(FIRST_STAGE, tiny_data,
                               str(tmp_path / 'stage1')), first_recipe)
    cfg.load_from = str(tmp_path / 'coco.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    lr, grad_norm = first_lr_and_grad_norm(runner)
    assert lr == pytest.approx(0.01 / 3)  # linear warm-up from 1/3
    assert runner.optim_wrapper.clip_grad_kwargs == dict(max_norm=35,
                                                         norm_type=2)
    assert len(grad_norm.data[0]) >= 1  # clipping measured every step
    log = run_log(tmp_path / 'stage1')
    assert log.count('FinetuneFromOtherClassesHook:') == 1
    assert 'size mismatch' not in log
    stage1 = torch.load(str(tmp_path / 'stage1' / 'epoch_1.pth'))['state_dict']
    # The whole detector trains in the first stage.
    key = 'neck.lateral_convs.0.conv.weight'
    assert not torch.equal(stage1[key], coco[key])

    second_recipe = Config.fromfile(str(SECOND_STAGE))
    assert second_recipe.load_from == \
        'work_dirs/mask-rcnn_r50_fpn_coco-init-1x_lvis-v1/epoch_12.pth'
    cfg = recipe_kept(tiny_cfg(SECOND_STAGE, tiny_data,
                               str(tmp_path / 'stage2')), second_recipe)
    cfg.load_from = str(tmp_path / 'stage1' / 'epoch_1.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    lr, _ = first_lr_and_grad_norm(runner)
    assert lr == pytest.approx(0.01 / 3)
    assert runner.optim_wrapper.clip_grad_kwargs == dict(max_norm=35,
                                                         norm_type=2)
    assert 'val/lvis/bbox_AP' in runner.message_hub.log_scalars
    bags = torch.load(str(tmp_path / 'stage2' / 'epoch_1.pth'))['state_dict']
    for key, value in stage1.items():
        if 'fc_cls' not in key:
            assert torch.equal(value, bags[key]), key  # only fc_cls trains
    num_logits = len(tiny_data['class_names']) + 1 + 1 + sum(
        1 for size in tiny_data['group_sizes'] if size)
    assert bags['roi_head.bbox_head.fc_cls.weight'].shape[0] == num_logits
