"""Train N epochs, save, resume to 2N: the same losses and the same final
weights as an uninterrupted 2N run (BAGS sampling and MMDetection's RoI
sampling draw from torch's generator, which RandomStateHook checkpoints)."""
from pathlib import Path

import pytest
import torch

from detection_helpers import generate_tiny_longtail, tiny_cfg

pytestmark = pytest.mark.slow

CONFIG = (Path(__file__).parents[1] / 'configs' / 'bags' /
          'bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    return generate_tiny_longtail(tmp_path_factory.mktemp('resume_data'),
                                  seed=2)


def run(data, work_dir, max_epochs, resume_from=None, hooks=True,
        val_interval=1):
    from mmengine.runner import Runner
    cfg = tiny_cfg(CONFIG, data, str(work_dir))
    cfg.train_cfg.update(max_epochs=max_epochs, val_interval=val_interval)
    cfg.randomness = dict(seed=3, deterministic=True)
    if not hooks:
        cfg.custom_hooks = []
    if resume_from is not None:
        cfg.load_from = str(resume_from)
        cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def logged_losses(runner):
    """Every iteration's total loss (a resumed run's message hub continues
    the history saved in the checkpoint)."""
    history, _ = runner.message_hub.get_scalar('train/loss').data
    return history.tolist()


def test_config_keeps_random_state_in_checkpoints():
    from mmengine.config import Config
    hooks = Config.fromfile(str(CONFIG)).custom_hooks
    assert dict(type='RandomStateHook') in hooks


def test_resume_repeats_the_uninterrupted_run(tiny_data, tmp_path):
    """With validation after every epoch (the uninterrupted run validates
    between epochs 1 and 2, the resumed one does not)."""
    straight = run(tiny_data, tmp_path / 'straight', max_epochs=2)
    run(tiny_data, tmp_path / 'first', max_epochs=1)
    checkpoint = torch.load(str(tmp_path / 'first' / 'epoch_1.pth'))
    assert 'random_state' in checkpoint  # loads under weights_only
    resumed = run(tiny_data, tmp_path / 'resumed', max_epochs=2,
                  resume_from=tmp_path / 'first' / 'epoch_1.pth')
    straight_losses = logged_losses(straight)
    assert len(straight_losses) == 4  # 2 epochs of 2 iterations
    assert logged_losses(resumed) == straight_losses
    straight_state = straight.model.state_dict()
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, straight_state[key]), key


def test_without_the_hook_resume_draws_differently(tiny_data, tmp_path):
    """Control: the difference the hook removes is real."""
    straight = run(tiny_data, tmp_path / 'straight', max_epochs=2,
                   hooks=False, val_interval=100)
    run(tiny_data, tmp_path / 'first', max_epochs=1, hooks=False,
        val_interval=100)
    resumed = run(tiny_data, tmp_path / 'resumed', max_epochs=2,
                  resume_from=tmp_path / 'first' / 'epoch_1.pth',
                  hooks=False, val_interval=100)
    key = 'roi_head.bbox_head.fc_cls.weight'
    assert not torch.equal(resumed.model.state_dict()[key],
                           straight.model.state_dict()[key])
