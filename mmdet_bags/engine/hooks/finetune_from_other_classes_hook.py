"""Fine-tune from a detector trained on other classes (e.g. COCO -> LVIS).

The paper's first stage fine-tunes each LVIS baseline from a COCO detector of
the same architecture. The layers whose size depends on the number of classes
(``fc_cls``, class-specific ``fc_reg``, the mask head's ``conv_logits``)
cannot take COCO's 80-class weights; MMEngine would load everything else and
print one size-mismatch warning per tensor. This hook leaves exactly those
layers at their initialisation and says so in one log line.
"""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper


def class_dependent_mismatches(
        model_state: Dict[str, torch.Tensor],
        checkpoint_state: Dict[str, torch.Tensor],
        skip_prefixes: Tuple[str, ...] = ()) -> List[str]:
    """Keys whose tensors differ only in their first (output) dimension.

    That is how a layer with one output per class (or per class and box
    coordinate) differs between two label sets; any other difference is a
    different architecture and is left to MMEngine's usual warning.

    Args:
        model_state: the model's state dict (its current, initialised
            tensors).
        checkpoint_state: the state dict being loaded.
        skip_prefixes: key prefixes to leave alone (modules that adapt
            their own classifier on load, such as ``BAGSBBoxHead``).

    Returns:
        list[str]: the mismatching keys, in checkpoint order.
    """
    keys = []
    for key, incoming in checkpoint_state.items():
        own = model_state.get(key)
        if own is None or not torch.is_tensor(incoming) \
                or key.startswith(skip_prefixes):
            continue
        if incoming.dim() == own.dim() and incoming.dim() >= 1 \
                and incoming.shape[1:] == own.shape[1:] \
                and incoming.shape[0] != own.shape[0]:
            keys.append(key)
    return keys


def _self_adapting_prefixes(model: nn.Module) -> Tuple[str, ...]:
    from mmdet_bags.models.roi_heads import BAGSBBoxHead
    return tuple(f'{name}.' for name, module in model.named_modules()
                 if isinstance(module, BAGSBBoxHead))


@HOOKS.register_module()
class FinetuneFromOtherClassesHook(Hook):
    """Let ``load_from`` be a detector trained on another label set.

    Before the checkpoint is loaded (``before_run`` comes before MMEngine's
    ``load_or_resume``), a state-dict pre-hook on the model replaces every
    checkpoint tensor that differs from the model's only in its first
    dimension (one row per class) by the model's own freshly initialised
    tensor, and logs one line naming those layers with both shapes. Every
    other weight loads as usual. ``resume`` of one of this run's own
    checkpoints matches in every shape, so nothing is replaced.

    Config::

        load_from = '<COCO-trained detector of the same architecture>.pth'
        custom_hooks = [dict(type='FinetuneFromOtherClassesHook')]
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._registered = False

    def before_run(self, runner) -> None:
        if self._registered:
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        model._register_load_state_dict_pre_hook(
            self._keep_class_layers_initialised(model), with_module=False)
        self._registered = True

    @staticmethod
    def _keep_class_layers_initialised(model: nn.Module):
        skip = _self_adapting_prefixes(model)

        def hook(state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None:
            if prefix:  # only the whole model's state dict
                return
            own = model.state_dict()
            keys = class_dependent_mismatches(own, state_dict, skip)
            if not keys:
                return
            described = ', '.join(
                f'{key} {tuple(state_dict[key].shape)} -> '
                f'{tuple(own[key].shape)}' for key in keys)
            for key in keys:
                state_dict[key] = own[key]
            print_log(
                f'FinetuneFromOtherClassesHook: the checkpoint was trained '
                f'for another set of classes; {len(keys)} class-dependent '
                f'tensors keep their initialisation because their number of '
                f'outputs differs (checkpoint -> model): {described}. Every '
                'other weight is loaded.',
                logger='current')

        return hook
