"""Train only the classifier: the second stage of the paper's recipe."""
from typing import List, Sequence

import torch.nn as nn
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch.nn.modules.batchnorm import _BatchNorm


def freeze_all_but(model: nn.Module, trainable: Sequence[str]) -> List[str]:
    """Set ``requires_grad=False`` on every parameter not inside a module
    whose attribute name is in ``trainable`` (e.g. ``'fc_cls'`` matches
    ``roi_head.bbox_head.fc_cls.weight`` and every cascade stage's).

    Returns:
        list[str]: names of the parameters left trainable.

    Raises:
        ValueError: if no parameter matches (a typo would otherwise train
            nothing).
    """
    wanted = set(trainable)
    kept = []
    for name, parameter in model.named_parameters():
        keep = bool(wanted.intersection(name.split('.')[:-1]))
        parameter.requires_grad_(keep)
        if keep:
            kept.append(name)
    if not kept:
        raise ValueError(f'no parameter belongs to a module named '
                         f'{sorted(wanted)}: nothing would be trained')
    return kept


def keep_normalization_statistics(model: nn.Module) -> int:
    """Put every BatchNorm layer in eval mode (running statistics fixed).

    Returns:
        int: number of BatchNorm layers set to eval.
    """
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for layer in layers:
        layer.eval()
    return len(layers)


@HOOKS.register_module()
class TrainClassifierOnlyHook(Hook):
    """Train only the classifier layers; freeze everything else.

    The paper's decoupled recipe trains the BAGS classifier ``fc_cls`` (of
    every stage in a cascade) on top of a converged detector. This hook
    freezes every other parameter before training starts and keeps every
    BatchNorm layer in eval mode at every iteration (``model.train()`` would
    otherwise switch them back), so all weights and statistics outside the
    classifier stay bit-identical.

    Config::

        custom_hooks = [dict(type='TrainClassifierOnlyHook')]

    Under multi-process training (DDP) set
    ``model_wrapper_cfg=dict(type='MMDistributedDataParallel',
    find_unused_parameters=True)``: the model is wrapped before hooks run, so
    DDP must be told that the frozen parameters will get no gradient.

    Args:
        trainable (Sequence[str]): attribute names of the modules to keep
            training. Defaults to ``('fc_cls',)``.
        require_checkpoint (bool): refuse to start without ``load_from`` (or
            ``resume``): training only the classifier of an untrained
            detector is almost certainly a missing ``load_from``. Defaults
            to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 trainable: Sequence[str] = ('fc_cls', ),
                 require_checkpoint: bool = True) -> None:
        if isinstance(trainable, str):
            trainable = (trainable, )
        self.trainable = tuple(trainable)
        self.require_checkpoint = require_checkpoint

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        if is_model_wrapper(model):
            if not getattr(model, 'find_unused_parameters', True):
                raise RuntimeError(
                    'TrainClassifierOnlyHook freezes parameters after the '
                    'model was wrapped for distributed training; set '
                    "model_wrapper_cfg=dict(type='MMDistributedDataParallel',"
                    ' find_unused_parameters=True) in the config')
            model = model.module
        return model

    def before_train(self, runner) -> None:
        if self.require_checkpoint and not getattr(runner, '_load_from', None) \
                and not getattr(runner, '_resume', False):
            raise RuntimeError(
                'TrainClassifierOnlyHook trains only the classifier of a '
                'trained detector, but no checkpoint is loaded: set load_from '
                '(e.g. --cfg-options load_from=work_dirs/<baseline>/'
                'epoch_12.pth) or resume')
        model = self._model(runner)
        kept = freeze_all_but(model, self.trainable)
        total = sum(1 for _ in model.parameters())
        num_values = sum(p.numel() for p in model.parameters()
                         if p.requires_grad)
        print_log(
            f'TrainClassifierOnlyHook: training {len(kept)} of {total} '
            f'parameter tensors ({num_values} values: {", ".join(kept)}); '
            'everything else, BatchNorm statistics included, is frozen',
            logger='current')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        keep_normalization_statistics(self._model(runner))
