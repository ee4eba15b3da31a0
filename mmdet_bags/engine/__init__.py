"""Training-loop components (registered into ``mmdet.registry.HOOKS``)."""
from .hooks import RandomStateHook, TrainClassifierOnlyHook

__all__ = ['RandomStateHook', 'TrainClassifierOnlyHook']
