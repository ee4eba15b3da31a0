"""RoI heads (registered into ``mmdet.registry.MODELS``)."""
from .bbox_heads import BAGSBBoxHead

__all__ = ['BAGSBBoxHead']
