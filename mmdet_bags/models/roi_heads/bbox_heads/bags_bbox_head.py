"""A Shared2FC bbox head whose classifier is Balanced Group Softmax."""
import copy
from typing import Optional, Sequence, Union

import torch
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.registry import MODELS
from mmengine.logging import print_log

from mmdet_bags.grouping import GroupLayout
from mmdet_bags.grouping.layout import STATE_KEYS, layout_from_state_dict

_LOSS_TYPE = 'GroupSoftmaxLoss'
# MMDetection's default bbox-head loss; a base config's loss_cls of this kind
# is what a type swap to BAGSBBoxHead inherits, so it is replaced, not refused.
_REPLACEABLE_LOSS_TYPES = ('CrossEntropyLoss', )


def _type_name(loss_type) -> str:
    return loss_type if isinstance(loss_type, str) else getattr(
        loss_type, '__name__', str(loss_type))


@MODELS.register_module()
class BAGSBBoxHead(Shared2FCBBoxHead):
    """``Shared2FCBBoxHead`` with a Balanced Group Softmax classifier.

    Only the classification loss (and so the classifier width and the test
    scores) changes; every other argument is passed to
    ``Shared2FCBBoxHead`` unchanged.

    ``loss_cls`` may be left out, be MMDetection's default softmax
    ``CrossEntropyLoss`` (what a base config gives when only ``type`` is
    switched to ``BAGSBBoxHead``; it is replaced and its ``loss_weight``
    kept) or a ``GroupSoftmaxLoss`` config (the head's ``groups``,
    ``bin_edges`` and ``others_sample_ratio`` fill in what it leaves out and
    must agree with what it sets). Any other loss is refused.

    Loading checkpoints:

    * a BAGS checkpoint restores the groups from its buffers; with
      ``groups=None`` the head takes them from it (inference needs no
      annotation file), otherwise they must match;
    * an ordinary checkpoint whose ``fc_cls`` has ``C + 1`` outputs (the
      first stage of the paper's decoupled recipe) loads every other weight;
      ``fc_cls`` keeps its fresh initialisation (normal, std 0.01, bias 0),
      or with ``init_cls_from_baseline=True`` takes the baseline's class and
      background rows (the "foreground" and "others" rows stay fresh). One
      log line says which happened.

    Args:
        groups (str | dict | GroupLayout | None): see
            :class:`~mmdet_bags.models.losses.GroupSoftmaxLoss`.
        bin_edges (Sequence[int], optional): instance-count bin edges.
        others_sample_ratio (float | None): ``beta``; default 8.0.
        init_cls_from_baseline (bool): initialise the BAGS classifier rows of
            each class and of background from an ordinary ``(C + 1)``
            checkpoint's classifier. Our addition, off by default (the paper
            initialises at random).
        loss_cls (dict, optional): see above.
        **kwargs: ``Shared2FCBBoxHead`` arguments.
    """

    def __init__(self,
                 *args,
                 groups: Union[str, dict, GroupLayout, None] = None,
                 bin_edges: Optional[Sequence[int]] = None,
                 others_sample_ratio: Optional[float] = 8.0,
                 init_cls_from_baseline: bool = False,
                 loss_cls: Optional[dict] = None,
                 num_classes: int = 80,
                 **kwargs) -> None:
        loss_cls = self._bags_loss_config(loss_cls, num_classes, groups,
                                          bin_edges, others_sample_ratio)
        super().__init__(
            *args, num_classes=num_classes, loss_cls=loss_cls, **kwargs)
        self.init_cls_from_baseline = init_cls_from_baseline
        self._register_load_state_dict_pre_hook(self._adapt_classifier)

    @staticmethod
    def _bags_loss_config(loss_cls, num_classes, groups, bin_edges,
                          others_sample_ratio) -> dict:
        head_settings = dict(num_classes=num_classes, groups=groups,
                             bin_edges=bin_edges,
                             others_sample_ratio=others_sample_ratio)
        if loss_cls is None:
            return dict(type=_LOSS_TYPE, **head_settings)
        loss_cls = copy.deepcopy(dict(loss_cls))
        loss_type = _type_name(loss_cls.get('type'))
        if loss_type in _REPLACEABLE_LOSS_TYPES:
            if loss_cls.get('use_sigmoid', False):
                raise ValueError(
                    'BAGSBBoxHead replaces a softmax CrossEntropyLoss by '
                    'GroupSoftmaxLoss, but loss_cls has use_sigmoid=True; '
                    'remove loss_cls or give '
                    "dict(type='GroupSoftmaxLoss', ...)")
            return dict(type=_LOSS_TYPE,
                        loss_weight=loss_cls.get('loss_weight', 1.0),
                        **head_settings)
        if loss_type != _LOSS_TYPE:
            raise ValueError(
                f'BAGSBBoxHead needs a GroupSoftmaxLoss classifier, but '
                f'loss_cls is {loss_type}; remove loss_cls (or use '
                f"_delete_=True) or set type='GroupSoftmaxLoss'")
        head_defaults = dict(groups=None, bin_edges=None,
                             others_sample_ratio=8.0)
        for key, value in head_settings.items():
            unset = key not in loss_cls or (
                loss_cls[key] is None and key != 'others_sample_ratio')
            if unset:
                loss_cls[key] = value
            elif (key == 'num_classes' or value != head_defaults[key]) \
                    and loss_cls[key] != value:
                raise ValueError(
                    f'BAGSBBoxHead has {key}={value!r} but its loss_cls has '
                    f'{key}={loss_cls[key]!r}; set it in one place')
        return loss_cls

    @property
    def layout(self) -> Optional[GroupLayout]:
        """The classifier's group layout (None until a checkpoint gives it
        when the head was built with ``groups=None``)."""
        return self.loss_cls.layout

    # ------------------------------------------------------------ loading
    def _adapt_classifier(self, state_dict, prefix, local_metadata, strict,
                          missing_keys, unexpected_keys, error_msgs) -> None:
        loss_prefix = prefix + 'loss_cls.'
        weight_key, bias_key = prefix + 'fc_cls.weight', prefix + 'fc_cls.bias'
        loaded = layout_from_state_dict(state_dict, loss_prefix)
        if loaded is not None:
            if self.layout is None:
                self.loss_cls.set_layout(loaded, source=f'the checkpoint '
                                         f'({loss_prefix}*)')
                self._resize_classifier(loaded.num_logits)
            return  # the loss's own hook compares the groups
        if weight_key not in state_dict or self.layout is None:
            return
        incoming = state_dict[weight_key]
        if incoming.dim() != 2 or incoming.size(0) != self.num_classes + 1 \
                or incoming.shape == self.fc_cls.weight.shape:
            return  # not an ordinary softmax classifier: default handling
        weight = self.fc_cls.weight.detach().clone()
        bias = self.fc_cls.bias.detach().clone()
        if self.init_cls_from_baseline:
            if incoming.size(1) != weight.size(1):
                raise RuntimeError(
                    f'{weight_key} in the checkpoint has {incoming.size(1)} '
                    f'inputs, this head {weight.size(1)}: cannot initialise '
                    'the BAGS classifier from it')
            columns = self.loss_cls.column_of_label.to(weight.device)
            weight[columns] = incoming.to(weight)
            if bias_key in state_dict:
                bias[columns] = state_dict[bias_key].to(bias)
            how = ('its class and background rows initialise the BAGS '
                   'classifier (init_cls_from_baseline=True); the '
                   '"foreground" and "others" rows keep their initialisation')
        else:
            how = ('fc_cls keeps its fresh initialisation (normal std 0.01, '
                   'bias 0), as in the paper\'s decoupled recipe')
        state_dict[weight_key] = weight
        state_dict[bias_key] = bias
        # The ordinary checkpoint has no groups; ours are the config's.
        for name in STATE_KEYS:
            state_dict[loss_prefix + name] = getattr(self.loss_cls, name)
        print_log(
            f'{prefix}fc_cls: the checkpoint holds an ordinary softmax '
            f'classifier ({incoming.size(0)} = {self.num_classes} classes + '
            f'background outputs), not loaded as such because BAGS needs '
            f'{self.layout.num_logits} outputs for its groups; {how}.',
            logger='current')

    def _resize_classifier(self, out_features: int) -> None:
        if self.fc_cls.out_features == out_features:
            return
        old = self.fc_cls
        cls_predictor_cfg = copy.deepcopy(self.cls_predictor_cfg)
        cls_predictor_cfg.update(in_features=old.in_features,
                                 out_features=out_features)
        self.fc_cls = MODELS.build(cls_predictor_cfg).to(
            device=old.weight.device, dtype=old.weight.dtype)
        torch.nn.init.normal_(self.fc_cls.weight, std=0.01)
        torch.nn.init.zeros_(self.fc_cls.bias)
