"""Training-loop components (registered into ``mmdet.registry.HOOKS``)."""
from .hooks import (CheckGroupClassesHook, RandomStateHook,
                    TrainClassifierOnlyHook)

__all__ = ['CheckGroupClassesHook', 'RandomStateHook', 'TrainClassifierOnlyHook']
