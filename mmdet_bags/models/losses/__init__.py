"""Classification losses (registered into ``mmdet.registry.MODELS``)."""
from .group_softmax_loss import (GroupCrossEntropy, GroupSoftmaxLoss,
                                 bags_scores, group_log_softmax,
                                 group_softmax_targets, select_rois)

__all__ = [
    'GroupCrossEntropy', 'GroupSoftmaxLoss', 'bags_scores', 'group_log_softmax',
    'group_softmax_targets', 'select_rois'
]
