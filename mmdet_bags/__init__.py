"""mmdet-bags: Balanced Group Softmax (BAGS) for MMDetection 3.x.

Importing this package (directly, or from a config through
``custom_imports = dict(imports=['mmdet_bags'])``) first checks that the
installed mmengine, mmcv and mmdet are supported (see
:mod:`mmdet_bags.dependencies`), then applies the package's compatibility
fixes for the pinned stack (see :mod:`mmdet_bags.compat`) and registers every
module the package adds into MMDetection's registries.
"""
from .dependencies import check_stack_versions

check_stack_versions()

from .compat import apply_compat_fixes  # noqa: E402

apply_compat_fixes()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .package_files import config_path  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    '__version__', 'apply_compat_fixes', 'check_stack_versions',
    'config_path', 'datasets', 'engine', 'evaluation', 'models'
]
