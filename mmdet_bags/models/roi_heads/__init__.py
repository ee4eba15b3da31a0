"""RoI heads (registered into ``mmdet.registry.MODELS``)."""
