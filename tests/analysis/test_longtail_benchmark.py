"""tools/benchmark_longtail.py: target verdicts (exact) and a smoke run of
all six methods through MMEngine's Runner."""
import json

import pytest

from mmdet_bags.analysis.longtail_benchmark import (STAGES, run_benchmark,
                                                    target_verdicts)


def result(title, ap, apr, apf):
    return dict(title=title, metrics={'lvis/bbox_AP': ap,
                                      'lvis/bbox_APr': apr,
                                      'lvis/bbox_APf': apf})


def test_verdicts_apply_the_issue_targets():
    results = dict(
        softmax=result('softmax CE', 0.20, 0.01, 0.50),
        seesaw=result('Seesaw', 0.24, 0.08, 0.49),
        bags_ok=result('BAGS a', 0.25, 0.10, 0.495),
        bags_apf=result('BAGS b', 0.25, 0.10, 0.485),
        bags_apr=result('BAGS c', 0.25, 0.08, 0.50))
    lines = target_verdicts(results, iou_types=('bbox', ))
    assert len(lines) == 3
    assert lines[0].startswith('BAGS a, bbox: APr +9.0 vs softmax')
    assert lines[0].endswith(': met')
    assert 'APf -1.5' in lines[1] and lines[1].endswith('NOT met')
    assert 'APr +7.0' in lines[2] and lines[2].endswith('NOT met')


def test_fixed_ap_gains_compare_both_gains_with_softmax():
    from mmdet_bags.analysis.longtail_benchmark import fixed_ap_gains

    def metrics(ap, apr, fixed, fixed_r):
        return {'lvis/bbox_AP': ap, 'lvis/bbox_APr': apr,
                'lvis/bbox_APfixed': fixed, 'lvis/bbox_APfixedr': fixed_r}
    results = dict(
        softmax=dict(title='softmax CE', metrics=metrics(.2, .01, .22, .02)),
        seesaw=dict(title='Seesaw', metrics=metrics(.3, .1, .3, .1)),
        bags=dict(title='BAGS', metrics=metrics(.25, .1, .24, .05)),
        bags_old=dict(title='old', metrics={'lvis/bbox_AP': .2}))
    assert fixed_ap_gains(results, iou_types=('bbox', )) == [
        'Fixed AP, BAGS, bbox: vs softmax AP +5.0 / APfixed +2.0, APr +9.0 '
        '/ APfixedr +3.0']


@pytest.mark.slow
def test_quick_benchmark_runs_every_method(tmp_path):
    output = run_benchmark(str(tmp_path / 'work'), str(tmp_path / 'data'),
                           quick=True)
    table = output['table'].splitlines()
    assert len(table) == 2 + len(STAGES)
    for stage in STAGES:
        assert any(line.startswith(f'| {stage.title} |') for line in table)
    data = json.load(open(output['files']['table_json']))
    assert data['quick'] is True
    assert len([line for line in data['verdicts']
                if not line.startswith('Fixed AP')]) == 6
    assert data['bin_edges'] == [2, 20, 202]
    for key in ('norms_png', 'bbox_bins_png', 'segm_bins_png'):
        assert open(output['files'][key], 'rb').read(4) == b'\x89PNG'
    # The decoupled methods started from their own baselines.
    import torch
    results = output['results']
    for decoupled, baseline in (('bags_decoupled', 'softmax'),
                                ('bags_decoupled_rfs', 'softmax_rfs')):
        a = torch.load(results[decoupled]['checkpoint'])['state_dict']
        b = torch.load(results[baseline]['checkpoint'])['state_dict']
        assert torch.equal(a['backbone.conv1.weight'],
                           b['backbone.conv1.weight'])


def test_an_interrupted_stage_continues_from_its_last_checkpoint(tmp_path):
    from mmengine.config import ConfigDict

    from mmdet_bags.analysis.experiments import interrupted_checkpoint
    cfg = ConfigDict(work_dir=str(tmp_path))
    assert interrupted_checkpoint(cfg) is None
    partial = tmp_path / 'iter_500.pth'
    (tmp_path / 'last_checkpoint').write_text(str(partial))
    assert interrupted_checkpoint(cfg) is None  # pointer to a missing file
    partial.write_bytes(b'x')
    assert interrupted_checkpoint(cfg) == str(partial)
