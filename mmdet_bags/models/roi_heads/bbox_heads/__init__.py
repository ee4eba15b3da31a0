from .bags_bbox_head import BAGSBBoxHead

__all__ = ['BAGSBBoxHead']
