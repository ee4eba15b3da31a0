from .check_group_classes_hook import CheckGroupClassesHook
from .random_state_hook import (RandomStateHook, capture_random_state,
                                restore_random_state)
from .train_classifier_only_hook import (TrainClassifierOnlyHook,
                                         freeze_all_but,
                                         keep_normalization_statistics)

__all__ = [
    'CheckGroupClassesHook',
    'RandomStateHook', 'capture_random_state', 'restore_random_state',
    'TrainClassifierOnlyHook', 'freeze_all_but',
    'keep_normalization_statistics'
]
