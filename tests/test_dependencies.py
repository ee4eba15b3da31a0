"""`import mmdet_bags` checks the OpenMMLab stack it runs on, like
MMDetection's own import check, and says what is installed and supported."""
import configparser
import re
from pathlib import Path

import pytest

from mmdet_bags.dependencies import (SUPPORTED_VERSIONS, TESTED_VERSIONS,
                                     UnsupportedStackError,
                                     check_stack_versions)

ROOT = Path(__file__).parents[1]


def versions(**overrides):
    installed = dict(TESTED_VERSIONS, **overrides)

    def get_version(name):
        if installed[name] is None:
            raise ModuleNotFoundError(f"No module named '{name}'")
        return installed[name]
    return get_version


def test_installed_stack_passes():
    import mmcv
    import mmdet
    import mmengine
    assert check_stack_versions() == dict(mmengine=mmengine.__version__,
                                          mmcv=mmcv.__version__,
                                          mmdet=mmdet.__version__)


@pytest.mark.parametrize('name, version', [
    ('mmcv', '1.7.2'), ('mmcv', '2.0.0rc3'), ('mmcv', '2.4.0'),
    ('mmdet', '3.2.0'), ('mmdet', '3.6.0'), ('mmengine', '1.0.0'),
])
def test_unsupported_version_names_installed_and_supported(name, version):
    low, high = SUPPORTED_VERSIONS[name]
    with pytest.raises(UnsupportedStackError) as error:
        check_stack_versions(versions(**{name: version}))
    message = str(error.value)
    assert f'{name}=={version} is installed' in message
    assert f'supports {name}>={low},<{high}' in message
    assert f'tested with {name}=={TESTED_VERSIONS[name]}' in message
    assert 'Install' in message  # where to read how to fix it
    assert isinstance(error.value, ImportError)  # an import failure


@pytest.mark.parametrize('name, version', [
    ('mmcv', '2.0.0rc4'), ('mmcv', '2.3.6'),  # lowest; onedl-mmcv
    ('mmdet', '3.5.1'), ('mmengine', '0.10.12'),  # onedl forks
])
def test_versions_inside_the_ranges_pass(name, version):
    assert check_stack_versions(versions(**{name: version}))[name] == version


def test_every_problem_is_reported_at_once():
    with pytest.raises(UnsupportedStackError) as error:
        check_stack_versions(versions(mmcv=None, mmdet='2.28.2'))
    message = str(error.value)
    assert "mmcv is not installed (No module named 'mmcv')" in message
    assert 'mmdet==2.28.2 is installed' in message


def test_missing_mmengine_stops_before_the_packages_that_import_it():
    with pytest.raises(UnsupportedStackError,
                       match='mmengine is not installed.*mmengine>=0.10.0'):
        check_stack_versions(versions(mmengine=None))


def test_import_of_the_package_fails_with_the_message(monkeypatch):
    """Through a real import: a fresh interpreter with a fake old mmcv."""
    import subprocess
    import sys
    import textwrap
    script = textwrap.dedent("""
        import mmcv
        mmcv.__version__ = '1.7.0'
        try:
            import mmdet_bags
        except ImportError as error:
            print(error)
    """)
    result = subprocess.run([sys.executable, '-c', script], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'mmcv==1.7.0 is installed, but mmdet-bags supports mmcv>=' \
        in result.stdout


def _requirements(lines):
    found = {}
    for line in lines:
        line = line.split('#')[0].strip()
        if line:
            name, spec = re.match(r'([A-Za-z0-9_.-]+)(.*)', line).groups()
            found[name] = spec
    return found


def test_package_metadata_leaves_the_stack_to_the_mim_extra():
    """As MMDetection does: mmcv/mmengine/mmdet are not install_requires;
    the `mim` extra and requirements/mminstall.txt give the upstream ranges,
    inside what the import check accepts."""
    from mmengine.utils import digit_version
    setup_cfg = configparser.ConfigParser()
    setup_cfg.read(ROOT / 'setup.cfg')
    options = setup_cfg['options']
    required = _requirements(options['install_requires'].splitlines())
    assert not set(required) & set(SUPPORTED_VERSIONS), required
    extra = _requirements(
        setup_cfg['options.extras_require']['mim'].splitlines())
    mminstall = _requirements(
        (ROOT / 'requirements' / 'mminstall.txt').read_text().splitlines())
    assert extra == mminstall
    assert set(extra) == set(SUPPORTED_VERSIONS)
    for name, spec in extra.items():
        low, high = re.fullmatch(r'>=([^,]+),<(.+)', spec).groups()
        supported_low, supported_high = SUPPORTED_VERSIONS[name]
        assert digit_version(supported_low) <= digit_version(low)
        assert digit_version(high) <= digit_version(supported_high)


def test_tested_versions_are_the_constraints():
    pins = _requirements(
        (ROOT / 'requirements' / 'constraints.txt').read_text().splitlines())
    for name, version in TESTED_VERSIONS.items():
        assert pins[name] == f'=={version}'
