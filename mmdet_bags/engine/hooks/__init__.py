from .check_group_classes_hook import CheckGroupClassesHook
from .finetune_from_other_classes_hook import (
    FinetuneFromOtherClassesHook, class_dependent_mismatches)
from .random_state_hook import (RandomStateHook, capture_random_state,
                                restore_random_state)
from .train_classifier_only_hook import (TrainClassifierOnlyHook,
                                         freeze_all_but,
                                         keep_normalization_statistics)

__all__ = [
    'CheckGroupClassesHook',
    'FinetuneFromOtherClassesHook', 'class_dependent_mismatches',
    'RandomStateHook', 'capture_random_state', 'restore_random_state',
    'TrainClassifierOnlyHook', 'freeze_all_but',
    'keep_normalization_statistics'
]
