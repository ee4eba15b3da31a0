"""Training-loop components (registered into ``mmdet.registry.HOOKS``)."""
from .hooks import (CheckGroupClassesHook, FinetuneFromOtherClassesHook,
                    RandomStateHook, TrainClassifierOnlyHook)

__all__ = [
    'CheckGroupClassesHook', 'FinetuneFromOtherClassesHook', 'RandomStateHook',
    'TrainClassifierOnlyHook'
]
