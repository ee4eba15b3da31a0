"""Save and restore the random number generators' state with checkpoints."""
import random

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

_KEY = 'random_state'


def capture_random_state() -> dict:
    """The state of Python's, numpy's and torch's (CPU and CUDA) global
    generators, made of types ``torch.load(weights_only=True)`` accepts."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict) -> None:
    """Inverse of :func:`capture_random_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make ``resume`` continue the random streams where they stopped.

    MMEngine checkpoints keep the seed but not the generators' state, so a
    resumed run draws (BAGS "others" sampling, MMDetection's RoI sampling,
    augmentations in the main process) as if it had just started, and
    differs from an uninterrupted run. This hook stores the state of the
    generators in every checkpoint and restores it when resuming (only then:
    ``load_from`` of a checkpoint starts a new run with the configured
    seed).

    Validation inside training leaves the generators as it found them (the
    state is saved before and restored after each validation), so it
    neither shifts the training draws nor makes a resumed run (which skips
    the validation already done) diverge.

    Each rank saves and restores its own state only when it writes the
    checkpoint: under distributed training MMEngine saves rank 0's
    checkpoint, so the other ranks resume with their seeded generators.

    Config::

        custom_hooks = [dict(type='RandomStateHook')]
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._state_before_validation = None

    def before_val_epoch(self, runner) -> None:
        self._state_before_validation = capture_random_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._state_before_validation is not None:
            restore_random_state(self._state_before_validation)
            self._state_before_validation = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[_KEY] = capture_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: a new run, seeded by the config
        state = checkpoint.get(_KEY)
        if state is None:
            print_log('RandomStateHook: the checkpoint holds no random state '
                      '(saved without this hook); the resumed run will not '
                      'repeat an uninterrupted one exactly', logger='current')
            return
        restore_random_state(state)
