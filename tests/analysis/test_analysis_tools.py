"""tools/analysis/classifier_norms.py and tools/analysis/results_table.py."""
import csv
import importlib.util
import json
from pathlib import Path

import pytest
import torch

TOOLS = Path(__file__).parents[2] / 'tools' / 'analysis'


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_classifier_norms_of_an_mmdet_style_lvis_checkpoint(tmp_path):
    # An ordinary LVIS v1 classifier whose row c has norm c + 1.
    weight = torch.zeros(1204, 4)
    weight[:, 0] = torch.arange(1, 1205, dtype=torch.float32)
    checkpoint = tmp_path / 'baseline.pth'
    torch.save(dict(state_dict={'roi_head.bbox_head.fc_cls.weight': weight},
                    meta=dict(epoch=12)), str(checkpoint))
    out, table = tmp_path / 'norms.png', tmp_path / 'norms.csv'
    assert load_tool('classifier_norms').main([
        str(checkpoint), '--names', 'softmax', '--groups', 'lvis_v1',
        '--out', str(out), '--csv', str(table)]) == 0
    assert out.read_bytes()[:4] == b'\x89PNG'
    rows = list(csv.DictReader(table.open()))
    assert len(rows) == 1203
    counts = [int(row['instance_count']) for row in rows]
    assert counts == sorted(counts, reverse=True)
    for row in rows:
        assert float(row['softmax']) == pytest.approx(int(row['label']) + 1)


def test_classifier_norms_of_a_bags_checkpoint_use_its_groups(tmp_path):
    from mmdet_bags.models.losses import GroupSoftmaxLoss
    loss = GroupSoftmaxLoss(num_classes=1203, groups='lvis_v1')
    weight = torch.zeros(1209, 4)
    columns = loss.layout.class_columns
    weight[columns, 0] = torch.arange(1, 1204, dtype=torch.float32)
    state = {'roi_head.bbox_head.fc_cls.weight': weight}
    state.update({f'roi_head.bbox_head.loss_cls.{k}': v
                  for k, v in loss.state_dict().items()})
    checkpoint = tmp_path / 'bags.pth'
    torch.save(dict(state_dict=state), str(checkpoint))
    table = tmp_path / 'norms.csv'
    assert load_tool('classifier_norms').main([
        str(checkpoint), '--names', 'bags', '--groups', 'lvis_v1',
        '--out', str(tmp_path / 'n.png'), '--csv', str(table)]) == 0
    for row in csv.DictReader(table.open()):
        assert float(row['bags']) == pytest.approx(int(row['label']) + 1)


def test_classifier_norms_reports_a_wrong_groups_source(tmp_path, capsys):
    checkpoint = tmp_path / 'x.pth'
    torch.save(dict(state_dict={'roi_head.bbox_head.fc_cls.weight':
                                torch.zeros(81, 4)}), str(checkpoint))
    assert load_tool('classifier_norms').main([
        str(checkpoint), '--groups', 'lvis_v1', '--out',
        str(tmp_path / 'n.png')]) == 2
    assert 'fc_cls has 81 rows' in capsys.readouterr().err


def test_results_table_from_metrics_files_and_mmengine_logs(tmp_path,
                                                            capsys):
    run_a = tmp_path / 'r50_bags'
    run_a.mkdir()
    (run_a / 'metrics.json').write_text(json.dumps({
        'lvis/bbox_AP': 0.25, 'lvis/bbox_APr': 0.1, 'lvis/bbox_APc': 0.2,
        'lvis/bbox_APf': 0.3, 'lvis/bbox_AP1': 0.05, 'lvis/bbox_AP2': -1.0}))
    log_dir = tmp_path / 'r101_bags' / '20260101_000000'
    log_dir.mkdir(parents=True)
    (log_dir / '20260101_000000.json').write_text('\n'.join([
        json.dumps({'loss': 1.0, 'iter': 1}),
        json.dumps({'lvis/bbox_AP': 0.1, 'lvis/bbox_APr': 0.0}),
        json.dumps({'lvis/bbox_AP': 0.3, 'lvis/bbox_APr': 0.2,
                    'lvis/bbox_APc': 0.3, 'lvis/bbox_APf': 0.4}),
    ]))
    csv_path, plot = tmp_path / 'table.csv', tmp_path / 'table.png'
    assert load_tool('results_table').main([
        str(run_a), str(tmp_path / 'r101_bags'), '--iou-types', 'bbox',
        '--csv', str(csv_path), '--plot', str(plot)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith('| run | bbox AP | bbox APr')
    assert printed[2] == ('| r50_bags | 25.0 | 10.0 | 20.0 | 30.0 | 5.0 | '
                          'n/a |')
    assert printed[3] == '| r101_bags | 30.0 | 20.0 | 30.0 | 40.0 |  |  |'
    rows = list(csv.DictReader(csv_path.open()))
    assert [row['run'] for row in rows] == ['r50_bags', 'r101_bags']
    assert plot.read_bytes()[:4] == b'\x89PNG'


def test_results_table_without_metrics_is_an_error(tmp_path, capsys):
    assert load_tool('results_table').main([str(tmp_path)]) == 2
    assert 'no metrics found' in capsys.readouterr().err


def test_results_table_bins_are_not_ap50_or_ap75():
    """AP50 / AP75 (IoU thresholds) end in digits like the bins AP1..APk:
    the table must show the bins only, not columns AP1 to AP75."""
    from mmdet_bags.analysis.results_table import comparison_rows
    metrics = {'lvis/bbox_AP': 0.3, 'lvis/bbox_AP50': 0.5,
               'lvis/bbox_AP75': 0.3, 'lvis/bbox_APfixed50': 0.5}
    metrics.update({f'lvis/bbox_AP{i}': i / 10 for i in (1, 2, 3, 4)})
    rows = comparison_rows({'run': metrics}, iou_types=('bbox', ))
    assert list(rows[0]) == ['run', 'bbox AP', 'bbox APr', 'bbox APc',
                             'bbox APf', 'bbox AP1', 'bbox AP2', 'bbox AP3',
                             'bbox AP4']
    assert rows[0]['bbox AP4'] == '40.0'
    # 8 bins (the paper's ablation), one run with fewer: columns to AP8
    eight = {f'lvis/bbox_AP{i}': 0.1 for i in range(1, 9)}
    rows = comparison_rows({'a': metrics, 'b': eight}, iou_types=('bbox', ))
    assert list(rows[0])[-1] == 'bbox AP8'
    assert rows[0]['bbox AP8'] == ''
