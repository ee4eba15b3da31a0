"""The built wheel works on its own, away from the repository.

The wheel is built from a copy of the source tree, installed (no
dependencies) into a fresh virtual environment whose ``sys.path`` then
continues with this test environment's site-packages (torch, mmcv, mmdet
...), and used from an empty temporary directory: a user config inheriting
one of the shipped configs builds, and ``mmdet-bags benchmark_longtail
--quick`` runs.
The layering adds this environment's folders as plain ``sys.path`` entries,
so its ``.pth`` files, among them the editable install of mmdet-bags, are
not run; every step also checks that it imported the wheel's copy.
"""
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
# Not part of a source tree that a wheel is built from.
_NOT_COPIED = {'.git', '.venv', 'work_dirs', 'data', 'build', 'dist',
               '.pytest_cache'}
# Inherits two relative bases and, through them, MMDetection's `mmdet::` one.
LVIS_CONFIG = 'bags/bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'


def _copy_source_tree(target: Path) -> None:
    def ignore(directory, names):
        skipped = {name for name in names
                   if name == '__pycache__' or name.endswith('.egg-info')}
        if Path(directory) == ROOT:
            skipped |= _NOT_COPIED & set(names)
        return skipped
    shutil.copytree(ROOT, target, ignore=ignore)


def _run(command, cwd, timeout=600, extra_env=None):
    env = {key: value for key, value in os.environ.items()
           if key not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP')}
    env.update(extra_env or {})
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (command, result.stdout[-3000:],
                                    result.stderr[-3000:])
    return result.stdout


@pytest.fixture(scope='module')
def installed_wheel(tmp_path_factory):
    """(wheel path, the venv's python, its site-packages, empty work dir)."""
    root = tmp_path_factory.mktemp('wheel')
    source = root / 'source'
    _copy_source_tree(source)
    # No build isolation: setuptools comes from this environment (no index).
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
          '--no-build-isolation', '--no-index', '-q', '-w',
          str(root / 'dist'), str(source)], cwd=root)
    wheel, = (root / 'dist').glob('mmdet_bags-*.whl')

    env_dir = root / 'venv'
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / 'bin' / 'python'
    _run([sys.executable, '-m', 'pip', '--python', str(python), 'install',
          '--no-deps', '--no-index', '-q', str(wheel)], cwd=root)
    purelib = Path(_run([str(python), '-c', 'import sysconfig; '
                         'print(sysconfig.get_paths()["purelib"])'],
                        cwd=root).strip())
    here = [path for path in site.getsitepackages() +
            [sysconfig.get_paths()['purelib']] if os.path.isdir(path)]
    (purelib / '_layer_on_test_environment.pth').write_text(
        '\n'.join(dict.fromkeys(here)) + '\n')
    work = root / 'user'
    work.mkdir()
    return wheel, python, purelib, work


def test_wheel_ships_configs_tools_and_data(installed_wheel):
    wheel = installed_wheel[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    mim = 'mmdet_bags/.mim/'
    for path in (ROOT / 'configs').rglob('*'):
        if path.is_file():
            assert mim + path.relative_to(ROOT).as_posix() in names, path
    assert mim + 'tools/demo.py' in names
    assert mim + 'tools/analysis/group_stats.py' in names
    assert mim + 'model-index.yml' in names
    assert mim + 'tools/setup_env.sh' not in names  # builds a clone's .venv
    assert 'mmdet_bags/data/lvis_v1_train_categories.json' in names
    assert 'mmdet_bags/models/losses/group_softmax_cpu.c' in names
    assert not any('__pycache__' in name for name in names)
    metadata = next(name for name in names if name.endswith('/METADATA'))
    requires = [line for line in zipfile.ZipFile(wheel).read(
        metadata).decode().splitlines() if line.startswith('Requires-Dist')]
    for name in ('mmcv', 'mmdet', 'mmengine'):
        declared = [line for line in requires
                    if line.split()[1].startswith(name)]
        assert declared and all('extra == "mim"' in line
                                for line in declared), requires


def test_user_config_inheriting_a_shipped_config_builds(installed_wheel):
    """`_base_` is the shipped config (found through the installed package,
    not the repository); its own relative `_base_` files and MMDetection's
    `mmdet::` ones resolve inside the installed packages."""
    _, python, purelib, work = installed_wheel
    mmdet_bags_cli = python.parent / 'mmdet-bags'
    base = _run([str(mmdet_bags_cli), '--config-path', LVIS_CONFIG],
                cwd=work).strip().splitlines()[-1]
    assert Path(base) == purelib / 'mmdet_bags' / '.mim' / 'configs' / \
        LVIS_CONFIG
    (work / 'my_config.py').write_text(textwrap.dedent(f"""
        _base_ = {base!r}
        model = dict(roi_head=dict(bbox_head=dict(others_sample_ratio=4.0)))
    """))
    out = _run([str(python), '-c', textwrap.dedent("""
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        cfg = Config.fromfile('my_config.py')  # custom_imports: mmdet_bags
        import mmdet_bags
        from mmdet.registry import MODELS
        init_default_scope('mmdet')
        head = MODELS.build(cfg.model).roi_head.bbox_head
        print(mmdet_bags.__file__)
        print(type(head).__name__, head.loss_cls.others_sample_ratio,
              cfg.model.backbone.depth)
    """)], cwd=work)
    module, built = out.strip().splitlines()[-2:]
    assert Path(module) == purelib / 'mmdet_bags' / '__init__.py'
    assert built == 'BAGSBBoxHead 4.0 50'


def test_cpu_kernel_builds_from_the_wheel(installed_wheel, tmp_path):
    """The fused CPU kernel compiles from the wheel's C source on first use
    (into an empty cache here) and serves the loss."""
    _, python, purelib, work = installed_wheel
    kernels = tmp_path / 'kernels'
    out = _run([str(python), '-c', textwrap.dedent("""
        import torch
        from mmdet_bags.models.losses import GroupSoftmaxLoss, cpu_kernel
        assert cpu_kernel.library() is not None, cpu_kernel.failure()
        loss = GroupSoftmaxLoss(num_classes=1203, groups='lvis_v1')
        logits = torch.randn(16, 1209, requires_grad=True)
        loss(logits, torch.randint(0, 1204, (16,)))['loss_cls'].backward()
        print(cpu_kernel.SOURCE)
    """)], cwd=work, extra_env={'MMDET_BAGS_KERNEL_DIR': str(kernels)})
    assert Path(out.strip().splitlines()[-1]) == \
        purelib / 'mmdet_bags' / 'models' / 'losses' / 'group_softmax_cpu.c'
    assert len(list(kernels.glob('group_softmax_cpu-*.so'))) == 1


def test_quick_benchmark_runs_from_the_wheel(installed_wheel):
    """The long-tail benchmark's smoke run, one method (the demo's quick
    run is tested in a clone by tests/analysis/test_demo.py; both share
    analysis/experiments.py, which finds the configs in the package)."""
    _, python, purelib, work = installed_wheel
    out = _run([str(python.parent / 'mmdet-bags'), 'benchmark_longtail',
                '--quick', '--methods', 'softmax', '--work-dir', 'bench_out',
                '--data-root', 'bench_data'], cwd=work, timeout=900)
    # Progress as in a clone: the stage lines and MMEngine's iteration logs.
    assert '[benchmark seed 0] [1/1] training softmax CE' in out
    assert 'Iter(train)' in out  # MMEngine's log
    assert (work / 'bench_out' / 'results.md').is_file()
    assert (work / 'bench_data' / 'annotations' /
            'lvis_v1_train.json').is_file()
    # A smoke run's records go into its work dir, not into the package.
    assert (work / 'bench_out' / 'runs' / 'seed0' / 'softmax.json').is_file()
    assert not (purelib / 'docs').exists()
