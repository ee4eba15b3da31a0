"""mmdet-bags: Balanced Group Softmax (BAGS) for MMDetection 3.x.

Importing this package (directly, or from a config through
``custom_imports = dict(imports=['mmdet_bags'])``) applies the package's
compatibility fixes for the pinned stack (see :mod:`mmdet_bags.compat`) and
registers every module the package adds into MMDetection's registries.
"""
from .compat import apply_compat_fixes

apply_compat_fixes()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = [
    '__version__', 'apply_compat_fixes', 'datasets', 'engine', 'evaluation',
    'models'
]
