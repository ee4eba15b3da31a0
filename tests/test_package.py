"""The package imports, applies its fixes, and a config can load it."""
import subprocess
import sys
import textwrap


def test_import_exposes_version():
    import mmdet_bags
    assert isinstance(mmdet_bags.__version__, str)
    assert mmdet_bags.__version__.count('.') == 2


def test_custom_imports_in_a_config_loads_the_package_and_its_fixes(tmp_path):
    """A config's custom_imports is all a user needs: the fixes come along.

    Run in a fresh interpreter so nothing imported by other tests helps.
    """
    config = tmp_path / 'config.py'
    config.write_text(
        "custom_imports = dict(imports=['mmdet_bags'], "
        "allow_failed_imports=False)\n")
    script = textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        assert 'mmdet_bags' not in sys.modules
        Config.fromfile({str(config)!r})
        assert 'mmdet_bags' in sys.modules
        import lvis.eval, torch.serialization
        from mmdet_bags.compat import NumpyWithRemovedAliases
        assert isinstance(lvis.eval.np, NumpyWithRemovedAliases)
        from mmengine.logging.history_buffer import HistoryBuffer
        assert HistoryBuffer in torch.serialization.get_safe_globals()
        print('ok')
    """)
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')


def test_no_module_is_longer_than_400_lines():
    """Issue #14: modules stay small enough to read as one job each."""
    import pathlib

    import mmdet_bags
    root = pathlib.Path(mmdet_bags.__file__).parent
    long = {str(path.relative_to(root)): count
            for path in root.rglob('*.py')
            if (count := len(path.read_text().splitlines())) > 400}
    assert not long, f'modules over 400 lines: {long}'
