"""Modules registered into ``mmdet.registry.MODELS`` on import."""
from . import losses, roi_heads  # noqa: F401

__all__ = ['losses', 'roi_heads']
