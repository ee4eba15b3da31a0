"""Configs and tools are found through the package (installed: its .mim
folder; editable or a clone: the source tree), and `mmdet-bags` runs tools."""
from pathlib import Path

import pytest

from mmdet_bags import cli, package_files

ROOT = Path(__file__).parents[1]
DEMO_CONFIG = 'demo/bags_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'


def test_source_tree_is_used_without_an_installed_copy():
    """This test environment is an editable install / a clone."""
    assert not Path(package_files.MIM_DIR).exists()
    assert Path(package_files.files_root()) == ROOT
    assert Path(package_files.config_path(DEMO_CONFIG)) == \
        ROOT / 'configs' / DEMO_CONFIG
    assert package_files.config_path('configs/' + DEMO_CONFIG) == \
        package_files.config_path(DEMO_CONFIG)


def test_installed_copy_comes_first(tmp_path, monkeypatch):
    (tmp_path / 'configs' / 'bags').mkdir(parents=True)
    (tmp_path / 'configs' / 'bags' / 'x.py').write_text('a = 1\n')
    monkeypatch.setattr(package_files, 'MIM_DIR', str(tmp_path))
    assert package_files.config_path('bags/x.py') == \
        str(tmp_path / 'configs' / 'bags' / 'x.py')


def test_no_configs_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(package_files, 'MIM_DIR', str(tmp_path / 'a'))
    monkeypatch.setattr(package_files, 'SOURCE_DIR', str(tmp_path / 'b'))
    with pytest.raises(FileNotFoundError, match='configs not found.*reinstall'):
        package_files.config_path(DEMO_CONFIG)


def test_unknown_config_and_tool_are_refused():
    with pytest.raises(FileNotFoundError, match="no config 'bags/nope.py'"):
        package_files.config_path('bags/nope.py')
    with pytest.raises(FileNotFoundError, match="no tool 'nope'.*demo"):
        package_files.tool_path('nope')


def test_every_tool_script_is_listed():
    tools = package_files.list_tools()
    expected = sorted(str(path.relative_to(ROOT / 'tools'))[:-3]
                      for path in (ROOT / 'tools').rglob('*.py'))
    assert sorted(tools) == expected
    assert {'demo', 'benchmark_longtail', 'analysis/group_stats'} <= set(tools)
    assert package_files.tool_path('analysis/group_stats') == \
        str(ROOT / 'tools' / 'analysis' / 'group_stats.py')
    configs = package_files.list_configs()
    assert DEMO_CONFIG in configs
    assert not any('_base_' in name for name in configs)


def test_cli_prints_a_config_path(capsys):
    assert cli.main(['--config-path', DEMO_CONFIG]) == 0
    assert capsys.readouterr().out.strip() == str(ROOT / 'configs' /
                                                  DEMO_CONFIG)


def test_cli_runs_a_tool_like_python_would(capsys):
    """Arguments reach the tool, its exit status comes back, and argv and
    sys.path are restored afterwards."""
    import sys
    argv, path = list(sys.argv), list(sys.path)
    assert cli.main(['analysis/group_stats', 'lvis_v1']) == 0
    assert '1203 classes' in capsys.readouterr().out
    assert cli.main(['analysis/group_stats', '--no-such-option']) == 2
    assert 'usage: group_stats.py' in capsys.readouterr().err
    assert (sys.argv, sys.path) == (argv, path)


def test_cli_refuses_unknown_tools_and_options(capsys):
    assert cli.main(['nope']) == 2
    assert "no tool 'nope'" in capsys.readouterr().err
    assert cli.main(['--config-path', 'bags/nope.py']) == 2
    assert "no config 'bags/nope.py'" in capsys.readouterr().err
    assert cli.main(['--nope']) == 2
    assert cli.main([]) == 2
    assert 'usage: mmdet-bags TOOL' in capsys.readouterr().out
