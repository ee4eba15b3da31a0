"""tools/analysis/group_stats.py and the statistics behind it."""
import importlib.util
import json
from pathlib import Path

import pytest

from mmdet_bags.analysis import summarize_groups
from mmdet_bags.grouping import load_builtin_table

TOOL = Path(__file__).parents[2] / 'tools' / 'analysis' / 'group_stats.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('group_stats_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lvis_v1_groups_against_frequencies():
    table = load_builtin_table('lvis_v1')
    rows = summarize_groups(table.layout(), table.frequencies)
    assert [row['num_classes'] for row in rows] == [200, 412, 334, 257]
    assert [row['count_range'] for row in rows] == [(0, 10), (10, 100),
                                                   (100, 1000), (1000, None)]
    # LVIS v1 train: 337 rare, 461 common, 405 frequent categories.
    assert sum(row['r'] for row in rows) == 337
    assert sum(row['c'] for row in rows) == 461
    assert sum(row['f'] for row in rows) == 405
    # Rare categories (< 11 images) can still have >= 10 instances.
    assert rows[0]['r'] == 200 and rows[1]['r'] > 0
    assert sum(row['num_instances'] for row in rows) == sum(
        table.instance_counts)


def test_tool_prints_table_and_writes_png_and_json(tmp_path, capsys):
    out, as_json = tmp_path / 'groups.png', tmp_path / 'groups.json'
    assert load_tool().main(['lvis_v0.5', '--out', str(out), '--json',
                             str(as_json)]) == 0
    printed = capsys.readouterr().out
    assert '1236 = C + 1 + G' in printed
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    data = json.loads(as_json.read_text())
    assert data['layout']['group_sizes'] == [294, 453, 302, 181]


def test_tool_on_an_annotation_file(tmp_path, capsys):
    path = tmp_path / 'train.json'
    path.write_text(json.dumps(dict(
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
        annotations=[dict(id=i, image_id=1, category_id=1 + (i < 3))
                     for i in range(20)],
        images=[dict(id=1)])))
    assert load_tool().main([str(path), '--bin-edges', '5']) == 0
    printed = capsys.readouterr().out
    assert '2 classes, 3 groups' in printed
    assert 'r' not in printed.split('\n')[2].split()  # no frequency columns


@pytest.mark.parametrize('argv, message', [
    (['nothing_here.json'], 'neither a built-in table'),
    (['lvis_v1', '--bin-edges', '100', '10'], 'strictly ascending'),
])
def test_tool_errors(argv, message, capsys):
    assert load_tool().main(argv) == 2
    assert message in capsys.readouterr().err
