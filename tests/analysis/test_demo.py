"""A shortened `make demo` (8 images, a few iterations) runs every stage
through MMEngine's Runner and writes the table and the plots; a second run
reuses everything."""
import json

import pytest

from mmdet_bags.analysis.demo import STAGES, format_results_table, run_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def quick_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    work_root, data_root = str(root / 'work'), str(root / 'data')
    return run_demo(work_root, data_root, quick=True), work_root, data_root


def test_quick_demo_writes_table_and_plots(quick_demo):
    output, _, _ = quick_demo
    files = output['files']
    for key in ('norms_png', 'bbox_bins_png', 'segm_bins_png'):
        with open(files[key], 'rb') as file:
            assert file.read(8) == b'\x89PNG\r\n\x1a\n'
    table = open(files['table_md']).read()
    for stage in STAGES:
        assert stage.title in table
    assert 'bbox AP4' in table and 'segm APr' in table
    assert 'bbox APfixed' in table and 'segm APfixedr' in table
    data = json.load(open(files['table_json']))
    assert data['quick'] is True
    assert data['bin_edges'] == [2, 19, 193]
    for stage in STAGES:
        metrics = data['results'][stage.name]['metrics']
        for key in ('lvis/bbox_AP', 'lvis/segm_AP', 'lvis/bbox_AP1',
                    'lvis/segm_AP4', 'lvis/bbox_APfixed',
                    'lvis/segm_APfixedr', 'lvis/segm_APfixed4'):
            assert key in metrics


def test_decoupled_stage_started_from_the_baseline(quick_demo):
    import torch
    output, _, _ = quick_demo
    results = output['results']
    baseline = torch.load(results['baseline']['checkpoint'])['state_dict']
    decoupled = torch.load(
        results['bags_decoupled']['checkpoint'])['state_dict']
    # Classifier-only training: the backbone is the baseline's, bit for bit.
    for key in ('backbone.conv1.weight', 'backbone.layer1.0.bn1.running_mean',
                'roi_head.mask_head.conv_logits.weight'):
        assert torch.equal(baseline[key], decoupled[key]), key
    assert decoupled['roi_head.bbox_head.fc_cls.weight'].shape[0] == 32 + 1 + 5


def test_second_run_reuses_data_checkpoints_and_metrics(quick_demo, capsys):
    first, work_root, data_root = quick_demo
    second = run_demo(work_root, data_root, quick=True)
    printed = capsys.readouterr().out
    assert 'training' not in printed
    assert printed.count('reusing') == len(STAGES)
    assert second['table'] == first['table']


def test_results_table_marks_missing_values():
    results = {'x': dict(title='method x', metrics={
        'lvis/bbox_AP': 0.5, 'lvis/bbox_APr': -1.0})}
    table = format_results_table(results, (2, 19, 193))
    row = table.splitlines()[2]
    assert row.startswith('| method x | 50.0 | n/a |')
