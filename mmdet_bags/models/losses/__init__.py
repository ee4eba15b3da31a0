"""Classification losses (registered into ``mmdet.registry.MODELS``)."""
