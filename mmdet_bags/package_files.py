"""Where the configs and tools of mmdet-bags are, installed or not.

A wheel carries the repository's ``configs/``, ``tools/`` and
``model-index.yml`` in ``mmdet_bags/.mim/`` (MMDetection's layout for
``mmdet/.mim``; copied there by ``setup.py``). In an editable install or a
plain source checkout they are the repository's own folders next to the
package. Everything that reads a config or runs a tool asks this module, so
nothing depends on the current directory or on a clone of the repository.
"""
import os
import os.path as osp
from typing import List, Tuple

PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
#: Installed (wheel) location of the shipped files.
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
#: Source-tree location (editable install, clone on ``sys.path``).
SOURCE_DIR = osp.dirname(PACKAGE_DIR)


def _roots() -> Tuple[str, ...]:
    return MIM_DIR, SOURCE_DIR


def files_root() -> str:
    """The folder holding ``configs/`` and ``tools/``: the package's
    ``.mim`` when installed from a wheel, else the source tree.

    Raises:
        FileNotFoundError: neither has a ``configs/`` folder (a broken
            install), naming both places looked at.
    """
    for root in _roots():
        if osp.isdir(osp.join(root, 'configs')):
            return root
    raise FileNotFoundError(
        'mmdet-bags configs not found: neither the installed package '
        f'({osp.join(MIM_DIR, "configs")}) nor a source tree '
        f'({osp.join(SOURCE_DIR, "configs")}) has them; reinstall the '
        'package (pip install mmdet-bags wheel, or pip install -e <clone>)')


def config_dir() -> str:
    """Absolute path of the shipped ``configs/`` folder."""
    return osp.join(files_root(), 'configs')


def config_path(name: str) -> str:
    """Absolute path of a shipped config.

    Args:
        name: path relative to ``configs/``, e.g.
            ``'bags/bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'``
            (a leading ``configs/`` is accepted too).

    Returns:
        str: the config file, usable in ``Config.fromfile`` or as an
        absolute ``_base_`` of a user's config.

    Raises:
        FileNotFoundError: no such config, naming the folder looked in.
    """
    relative = _relative(name, 'configs')
    path = osp.join(config_dir(), relative)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no config {relative!r} in {config_dir()} (see '
            '`mmdet-bags --list` for the shipped ones)')
    return path


def tool_path(name: str) -> str:
    """Absolute path of a shipped tool script.

    Args:
        name: path relative to ``tools/`` with or without ``.py``, e.g.
            ``'demo'`` or ``'analysis/group_stats'``.

    Raises:
        FileNotFoundError: no such tool, listing the shipped ones.
    """
    relative = _relative(name, 'tools')
    if not relative.endswith('.py'):
        relative += '.py'
    path = osp.join(files_root(), 'tools', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no tool {name!r}; shipped tools: {", ".join(list_tools())}')
    return path


def list_tools() -> List[str]:
    """Names of the shipped tool scripts (``'analysis/group_stats'``, ...)."""
    return _list(osp.join(files_root(), 'tools'), strip_py=True)


def list_configs() -> List[str]:
    """Shipped configs relative to ``configs/`` (without ``_base_`` parts)."""
    return [name for name in _list(config_dir(), strip_py=False)
            if '_base_' not in name.split('/')]


def _relative(name: str, folder: str) -> str:
    name = os.fspath(name).replace(os.sep, '/')
    prefix = folder + '/'
    return name[len(prefix):] if name.startswith(prefix) else name


def _list(root: str, strip_py: bool) -> List[str]:
    names = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != '__pycache__')
        for file in sorted(files):
            if not file.endswith('.py'):
                continue
            relative = osp.relpath(osp.join(directory, file), root)
            relative = relative.replace(os.sep, '/')
            names.append(relative[:-3] if strip_py else relative)
    return names
