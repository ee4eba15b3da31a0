"""``python -m mmdet_bags TOOL [ARGS]``: the ``mmdet-bags`` command."""
import sys

from mmdet_bags.cli import main

sys.exit(main())
