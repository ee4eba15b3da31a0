"""The OpenMMLab stack mmdet-bags needs, checked when the package is imported.

Like MMDetection (whose ``mmdet/__init__.py`` checks mmcv and mmengine), the
package metadata does not require mmcv, mmengine or mmdet: they are built for
a user's own torch/CUDA, and maintained forks (``onedl-mmcv``,
``onedl-mmengine``, ``onedl-mmdetection``) install the same import names
under other distribution names, which a hard requirement would duplicate.
The upstream ranges are the ``mim`` extra (``pip install mmdet-bags[mim]``,
``requirements/mminstall.txt``); what is actually installed is checked here,
by import name, with a message naming both versions.
"""
import importlib
from typing import Callable, Dict, List, Optional, Tuple

#: Import name -> (lowest supported, first unsupported) version. The upper
#: ends admit the onedl forks' current releases (onedl-mmcv 2.3,
#: onedl-mmdetection 3.5), which carry on MMDetection 3.x but are untested
#: here; the versions this package is tested with are :data:`TESTED_VERSIONS`.
SUPPORTED_VERSIONS: Dict[str, Tuple[str, str]] = {
    'mmengine': ('0.10.0', '1.0.0'),
    'mmcv': ('2.0.0rc4', '2.4.0'),
    'mmdet': ('3.3.0', '3.6.0'),
}
#: The stack of requirements/constraints.txt, which the test suite runs on.
TESTED_VERSIONS: Dict[str, str] = {
    'mmengine': '0.10.7',
    'mmcv': '2.1.0',
    'mmdet': '3.3.0',
}
_HINT = ('see "Install" in the mmdet-bags README (pip install '
         '"mmdet-bags[mim]", or the onedl forks)')


class UnsupportedStackError(ImportError):
    """mmcv, mmengine or mmdet is missing or outside the supported range."""


def check_stack_versions(
        get_version: Optional[Callable[[str], str]] = None
) -> Dict[str, str]:
    """Check that mmengine, mmcv and mmdet are importable and supported.

    Args:
        get_version: import name -> version string; default: import the
            module and read its ``__version__``.

    Returns:
        dict: import name -> installed version.

    Raises:
        UnsupportedStackError: one or more are missing or out of range; the
            message names each with its installed and supported versions.
    """
    get_version = get_version or _installed_version
    found: Dict[str, str] = {}
    problems: List[str] = []
    for name, (low, high) in SUPPORTED_VERSIONS.items():
        wanted = f'{name}>={low},<{high}'
        try:
            version = get_version(name)
        except ImportError as error:
            problems.append(f'{name} is not installed ({error}); '
                            f'mmdet-bags needs {wanted}')
            if name == 'mmengine':
                break  # mmcv and mmdet import it; nothing more to compare
            continue
        except AssertionError as error:
            # mmdet asserts its own mmcv/mmengine ranges on import.
            problems.append(f'{name} refuses to import: {error}')
            continue
        found[name] = version
        # The comparison MMDetection's own import check uses.
        from mmengine.utils import digit_version
        if not digit_version(low) <= digit_version(version) < \
                digit_version(high):
            problems.append(f'{name}=={version} is installed, but '
                            f'mmdet-bags supports {wanted} (tested with '
                            f'{name}=={TESTED_VERSIONS[name]})')
    if problems:
        raise UnsupportedStackError(
            'mmdet-bags cannot run on this environment:\n  - ' +
            '\n  - '.join(problems) + f'\n{_HINT}')
    return found


def _installed_version(name: str) -> str:
    return importlib.import_module(name).__version__
