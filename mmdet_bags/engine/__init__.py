"""Training-loop components (registered into ``mmdet.registry.HOOKS``)."""
from .hooks import TrainClassifierOnlyHook

__all__ = ['TrainClassifierOnlyHook']
