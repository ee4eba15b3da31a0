"""Classification losses (registered into ``mmdet.registry.MODELS``)."""
from .group_softmax_loss import (GroupSoftmaxLoss, bags_scores,
                                 group_log_softmax, group_logsumexp,
                                 group_softmax_targets, select_rois)

__all__ = [
    'GroupSoftmaxLoss', 'bags_scores', 'group_log_softmax', 'group_logsumexp',
    'group_softmax_targets', 'select_rois'
]
