from .train_classifier_only_hook import (TrainClassifierOnlyHook,
                                         freeze_all_but,
                                         keep_normalization_statistics)

__all__ = [
    'TrainClassifierOnlyHook', 'freeze_all_but',
    'keep_normalization_statistics'
]
