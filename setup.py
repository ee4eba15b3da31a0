"""Build hook: the wheel carries the configs and tools inside the package.

Metadata lives in setup.cfg. This file only adds what MMDetection's own
setup.py does for ``mmdet/.mim``: a built (non-editable) package gets
``mmdet_bags/.mim/{configs,tools,model-index.yml}``, copied from the source
tree, so configs and tools are found through the installed package
(:mod:`mmdet_bags.package_files`) and by ``mim``. An editable install copies
nothing: there the package finds them next to itself, in the source tree.
MMDetection decides copy or symlink from ``sys.argv``, which PEP 517/660
builds do not show; a ``build_py`` subclass sees the build mode instead.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

#: Source-tree entries shipped in ``mmdet_bags/.mim/``.
MIM_FILES = ('configs', 'tools', 'model-index.yml')
#: Builds the development environment of a clone; meaningless in a wheel.
NOT_SHIPPED = ('setup_env.sh', '__pycache__', '*.pyc')


class BuildPyWithMimFiles(build_py):
    """``build_py`` that also copies :data:`MIM_FILES` into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        source_root = osp.dirname(osp.abspath(__file__))
        mim_root = osp.join(self.build_lib, 'mmdet_bags', '.mim')
        for name in MIM_FILES:
            source = osp.join(source_root, name)
            target = osp.join(mim_root, name)
            if not osp.exists(source):
                raise FileNotFoundError(
                    f'{source} is missing: the wheel must ship it')
            if osp.isdir(target):
                shutil.rmtree(target)
            os.makedirs(mim_root, exist_ok=True)
            if osp.isdir(source):
                shutil.copytree(source, target,
                                ignore=shutil.ignore_patterns(*NOT_SHIPPED))
            else:
                shutil.copyfile(source, target)


setup(cmdclass={'build_py': BuildPyWithMimFiles})
