"""Classification losses (registered into ``mmdet.registry.MODELS``)."""
from .group_softmax import (GroupColumns, GroupCrossEntropy,
                            group_cross_entropy, group_softmax_scores)
from .group_softmax_loss import GroupSoftmaxLoss
from .group_targets import (group_membership, group_softmax_targets,
                            select_rois)

__all__ = [
    'GroupColumns', 'GroupCrossEntropy', 'GroupSoftmaxLoss',
    'group_cross_entropy', 'group_membership', 'group_softmax_scores',
    'group_softmax_targets', 'select_rois'
]
