"""tools/benchmark_longtail.py: target verdicts (exact) and a smoke run of
all six methods through MMEngine's Runner."""
import json

import pytest

from mmdet_bags.analysis.longtail_benchmark import STAGES, run_benchmark
from mmdet_bags.analysis.seeds import (aggregate_runs, format_metric,
                                       format_seed_values, summarize)
from mmdet_bags.analysis.verdicts import target_verdicts


def result(title, ap, apr, apf):
    return dict(title=title, metrics={'lvis/bbox_AP': ap,
                                      'lvis/bbox_APr': apr,
                                      'lvis/bbox_APf': apf})


def test_verdicts_apply_the_issue_targets():
    results = dict(
        softmax=result('softmax CE', 0.20, 0.01, 0.50),
        seesaw=result('Seesaw', 0.24, 0.08, 0.49),
        bags_ok=result('BAGS a', 0.25, 0.08, 0.49),
        bags_apf=result('BAGS b', 0.25, 0.10, 0.485),
        bags_apr=result('BAGS c', 0.25, 0.07, 0.50),
        bags_ap=result('BAGS d', 0.235, 0.10, 0.50))
    lines = target_verdicts(results, iou_types=('bbox', ))
    assert len(lines) == 4
    assert lines[0] == ('BAGS a, bbox: AP +1.0 and APr +0.0 vs Seesaw '
                        '(target >= 0), APf -1.0 vs softmax (target >= -1): '
                        'met')
    assert 'APf -1.5' in lines[1] and lines[1].endswith('NOT met')
    assert 'APr -1.0' in lines[2] and lines[2].endswith('NOT met')
    assert 'AP -0.5' in lines[3] and lines[3].endswith('NOT met')


def test_verdicts_compare_means_over_seeds():
    def seeded(title, ap, apr, apf):
        return dict(title=title, metrics={
            'lvis/bbox_AP': summarize(ap), 'lvis/bbox_APr': summarize(apr),
            'lvis/bbox_APf': summarize(apf)})
    results = dict(
        softmax=seeded('softmax CE', [0.2, 0.2], [0.0, 0.02], [0.5, 0.5]),
        seesaw=seeded('Seesaw', [0.24, 0.24], [0.08, 0.08], [0.5, 0.5]),
        bags=seeded('BAGS', [0.23, 0.27], [0.06, 0.10], [0.48, 0.50]))
    line, = target_verdicts(results, iou_types=('bbox', ))
    assert line == ('BAGS, bbox: AP +1.0 and APr +0.0 vs Seesaw (target >= '
                    '0), APf -1.0 vs softmax (target >= -1): met')


def test_summarize_gives_mean_sample_std_and_values():
    summary = summarize([0.30, 0.32, 0.34])
    assert summary['mean'] == pytest.approx(0.32)
    assert summary['std'] == pytest.approx(0.02)  # ddof=1
    assert summary['values'] == [0.30, 0.32, 0.34]
    # -1 (not measurable) is kept in values, left out of mean and std.
    assert summarize([0.4, -1.0]) == dict(mean=0.4, std=None,
                                          values=[0.4, -1.0])
    assert summarize([-1.0, -1.0])['mean'] == -1.0


def test_aggregation_keeps_the_single_seed_shape():
    def run(ap):
        return dict(title='m', config='c', metrics={'lvis/bbox_AP': ap})
    runs = dict(one={0: run(0.5)}, three={2: run(0.3), 0: run(0.1),
                                          1: run(0.2)}, none={})
    results = aggregate_runs(runs, seeds=[0, 1, 2])
    assert set(results) == {'one', 'three'}
    assert results['one']['seeds'] == [0]
    assert results['one']['metrics'] == {'lvis/bbox_AP': 0.5}
    assert results['three']['seeds'] == [0, 1, 2]
    metric = results['three']['metrics']['lvis/bbox_AP']
    assert metric['values'] == [0.1, 0.2, 0.3]  # in the order of seeds
    assert metric['mean'] == pytest.approx(0.2)
    assert metric['std'] == pytest.approx(0.1)
    assert format_metric(metric) == '20.0 ± 10.0'
    assert format_metric(0.5) == '50.0'
    assert format_metric(-1.0) == 'n/a' and format_metric(None) == 'n/a'
    table = format_seed_values(results, ['lvis/bbox_AP'])
    assert table.splitlines()[3] == '| m | 0, 1, 2 | 10.0 / 20.0 / 30.0 |'


def test_report_leaves_out_a_checkpoint_written_after_its_record(tmp_path):
    """Two runs of one stage share a work dir: the classifier-norm plot of
    a record must not read the checkpoint of a later training."""
    import os
    import time
    checkpoint = tmp_path / 'iter_2000.pth'
    checkpoint.write_bytes(b'x')
    written = time.mktime(time.strptime('2026-12-03 08:00:00',
                                        '%Y-%m-%d %H:%M:%S'))
    os.utime(checkpoint, (written, written))

    def run(finished):
        record = dict(title='m', config='c', metrics={'lvis/bbox_AP': 0.5},
                      checkpoint=str(checkpoint))
        if finished is not None:
            record['finished'] = finished
        return record
    for finished, found in (('2026-12-03 08:30:00', str(checkpoint)),
                            ('2026-12-03 07:59:00', None),
                            (None, str(checkpoint)),
                            ('yesterday', str(checkpoint))):
        results = aggregate_runs({'m': {0: run(finished)}}, seeds=[0])
        assert results['m']['checkpoint'] == found, finished


def test_results_table_shows_mean_and_std():
    from mmdet_bags.analysis.experiments import format_results_table
    results = aggregate_runs(
        {'x': {s: dict(title='x', config='c', metrics={
            'lvis/bbox_AP': ap, 'lvis/bbox_APr': -1.0})
            for s, ap in ((0, 0.30), (1, 0.34))}}, seeds=[0, 1])
    row = format_results_table(results, (2, 20, 202), ('bbox', ))
    assert row.splitlines()[2].startswith('| x | 32.0 ± 2.8 | n/a |')


class FakeStages:
    """Stands in for run_stages: records which stages it was asked to run
    and 'trains' them by writing a final checkpoint."""

    def __init__(self):
        self.calls = []

    def __call__(self, stages, work_root, data_root, force, quick,
                 log_prefix, randomness, adapt, on_result):
        import os
        from mmengine.config import ConfigDict
        self.calls.append((randomness['seed'], [s.name for s in stages],
                           sorted(force)))
        results = {}
        for stage in stages:
            cfg = ConfigDict(work_dir=os.path.join(work_root, stage.name),
                             randomness=randomness, recipe=stage.config)
            checkpoint = os.path.join(cfg.work_dir, 'final.pth')
            retrained = stage.name in force or not os.path.isfile(checkpoint)
            if retrained:
                os.makedirs(cfg.work_dir, exist_ok=True)
                open(checkpoint, 'w').close()
            results[stage.name] = dict(
                title=stage.title, config=stage.config, checkpoint=checkpoint,
                metrics={'lvis/bbox_AP': 0.1 * randomness['seed']},
                retrained=retrained, seconds=1.0)
            on_result(stage.name, results[stage.name], cfg)
        return results


@pytest.fixture
def fake_benchmark(monkeypatch, tmp_path):
    import os

    from mmengine.config import ConfigDict

    from mmdet_bags.analysis import longtail_benchmark

    def fake_cfg(stage, work_root, data_root, checkpoints, quick, randomness,
                 adapt):
        return ConfigDict(work_dir=os.path.join(work_root, stage.name),
                          randomness=randomness, recipe=stage.config)
    fake = FakeStages()
    monkeypatch.setattr(longtail_benchmark, 'run_stages', fake)
    monkeypatch.setattr(longtail_benchmark, 'build_stage_cfg', fake_cfg)
    monkeypatch.setattr(longtail_benchmark, 'final_checkpoint',
                        lambda cfg: os.path.join(cfg.work_dir, 'final.pth'))
    stages = longtail_benchmark.select_stages(['bags_decoupled', 'seesaw'])

    def run(seeds, force=()):
        return longtail_benchmark.run_seeds(
            stages, str(tmp_path / 'work'), str(tmp_path / 'data'), seeds,
            str(tmp_path / 'runs'), dict(data=dict(
                preset='small', seed=0, overrides={}), quick=False,
                backbone='r18'), force)
    return fake, run, tmp_path


def test_runs_resume_per_method_and_seed(fake_benchmark):
    fake, run, root = fake_benchmark
    runs = run([0, 1])
    assert fake.calls == [
        (0, ['softmax', 'bags_decoupled', 'seesaw'], []),
        (1, ['softmax', 'bags_decoupled', 'seesaw'], [])]
    record = json.load(open(root / 'runs' / 'seed1' / 'seesaw.json'))
    assert record['seed'] == 1 and record['randomness'] == dict(seed=1)
    assert record['metrics'] == {'lvis/bbox_AP': 0.1}
    assert record['seconds'] == 1.0 and 'git_commit' in record
    assert 'CPU cores' in record['machine'] and record['fingerprint']
    assert sorted(runs['seesaw']) == [0, 1]
    # Everything recorded: nothing runs again, another seed runs alone.
    fake.calls.clear()
    run([0, 1, 2])
    assert fake.calls == [(2, ['softmax', 'bags_decoupled', 'seesaw'], [])]


def test_decoupled_run_retrains_its_baseline_without_checkpoint(
        fake_benchmark):
    import shutil
    fake, run, root = fake_benchmark
    run([0])
    # A later session: records kept, work dirs gone, one record missing.
    shutil.rmtree(root / 'work')
    (root / 'runs' / 'seed0' / 'bags_decoupled.json').unlink()
    fake.calls.clear()
    run([0])
    assert fake.calls == [(0, ['softmax', 'bags_decoupled'], [])]
    # With the checkpoint there, the baseline is reused, not re-recorded.
    (root / 'runs' / 'seed0' / 'bags_decoupled.json').unlink()
    before = (root / 'runs' / 'seed0' / 'softmax.json').read_text()
    fake.calls.clear()
    run([0])
    assert fake.calls == [(0, ['softmax', 'bags_decoupled'], [])]
    assert (root / 'runs' / 'seed0' / 'softmax.json').read_text() == before


def test_forcing_a_baseline_redoes_its_decoupled_run(fake_benchmark):
    fake, run, _ = fake_benchmark
    run([0])
    fake.calls.clear()
    run([0], force=['softmax'])
    assert fake.calls == [(0, ['softmax', 'bags_decoupled'],
                           ['bags_decoupled', 'softmax'])]


def test_a_changed_recipe_is_redone_and_other_data_refused(
        fake_benchmark, capsys):
    from mmdet_bags.analysis.seeds import load_record
    fake, run, root = fake_benchmark
    run([0])
    path = root / 'runs' / 'seed0' / 'seesaw.json'
    record = json.loads(path.read_text())
    path.write_text(json.dumps(dict(record, fingerprint='old')))
    fake.calls.clear()
    run([0])
    assert fake.calls == [(0, ['seesaw'], ['seesaw'])]
    assert 'the config changed since this record' in capsys.readouterr().out
    with pytest.raises(ValueError, match='give each data set and backbone'):
        load_record(str(root / 'runs'), 0, 'seesaw', dict(data=dict(
            preset='small', seed=1, overrides={})))
    with pytest.raises(ValueError, match="backbone='r18', this run has "
                       "backbone='r50'"):
        load_record(str(root / 'runs'), 0, 'seesaw', dict(backbone='r50'))


def test_unknown_methods_are_refused_and_baselines_added():
    from mmdet_bags.analysis.longtail_benchmark import select_stages
    with pytest.raises(ValueError, match="unknown benchmark methods"):
        select_stages(['bags_magic'])
    names = [s.name for s in select_stages(['bags_decoupled_rfs'])]
    assert names == ['softmax_rfs', 'bags_decoupled_rfs']


def test_fixed_ap_gains_compare_both_gains_with_softmax():
    from mmdet_bags.analysis.verdicts import fixed_ap_gains

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
    work, data = str(tmp_path / 'work'), str(tmp_path / 'data')
    output = run_benchmark(work, data, quick=True, seeds=(0, ))
    table = output['table'].splitlines()
    assert len(table) == 2 + len(STAGES)
    for stage in STAGES:
        assert any(line.startswith(f'| {stage.title} |') for line in table)
    data_json = json.load(open(output['files']['table_json']))
    assert data_json['quick'] is True
    assert len([line for line in data_json['verdicts']
                if not line.startswith('Fixed AP')]) == 6
    assert data_json['bin_edges'] == [2, 20, 202]
    assert data_json['seeds'] == [0]
    # After 4 iterations a method may detect nothing above the score
    # threshold (MMDetection's LVIS metric then returns no keys); softmax
    # does detect.
    assert 'lvis/bbox_AP' in data_json['results']['softmax']['metrics']
    assert set(data_json['results']) == {stage.name for stage in STAGES}
    for name, result in data_json['results'].items():
        record = json.load(open(tmp_path / 'work' / 'runs' / 'seed0' /
                                f'{name}.json'))
        assert record['randomness']['seed'] == 0
        # One seed: today's shape, a float per metric.
        assert record['metrics'] == result['metrics']
    for key in ('norms_png', 'bbox_bins_png', 'segm_bins_png'):
        assert open(output['files'][key], 'rb').read(4) == b'\x89PNG'
    # The decoupled methods started from their own baselines.
    import torch
    for decoupled, baseline in (('bags_decoupled', 'softmax'),
                                ('bags_decoupled_rfs', 'softmax_rfs')):
        a = torch.load(f'{work}/seed0/{decoupled}/iter_4.pth')['state_dict']
        b = torch.load(f'{work}/seed0/{baseline}/iter_4.pth')['state_dict']
        assert torch.equal(a['backbone.conv1.weight'],
                           b['backbone.conv1.weight'])


def test_quick_benchmark_over_two_seeds_resumes_and_reproduces(
        tmp_path, capsys):
    """Two seeds (two methods, to keep the suite short; every method runs
    in the test above): mean, std and each seed's value, resumable per
    method and seed, and a seed reproduces its weights."""
    work, data = str(tmp_path / 'work'), str(tmp_path / 'data')
    methods = ['softmax', 'bags_decoupled']
    output = run_benchmark(work, data, quick=True, seeds=(0, 1),
                           methods=methods)
    data_json = json.load(open(output['files']['table_json']))
    assert data_json['seeds'] == [0, 1]
    assert set(data_json['results']) == set(methods)
    assert 'lvis/bbox_AP' in data_json['results']['softmax']['metrics']
    for name, result in data_json['results'].items():
        assert result['seeds'] == [0, 1]
        for seed in (0, 1):
            record = json.load(open(tmp_path / 'work' / 'runs' /
                                    f'seed{seed}' / f'{name}.json'))
            assert record['randomness']['seed'] == seed
            for key, summary in result['metrics'].items():
                assert set(summary) == {'mean', 'std', 'values'}
                assert record['metrics'][key] == summary['values'][seed]
    assert 'Each seed' in open(output['files']['table_md']).read()
    import torch
    a = torch.load(f'{work}/seed1/bags_decoupled/iter_4.pth')['state_dict']
    b = torch.load(f'{work}/seed1/softmax/iter_4.pth')['state_dict']
    assert torch.equal(a['backbone.conv1.weight'], b['backbone.conv1.weight'])
    # A second invocation trains nothing: every run is recorded.
    capsys.readouterr()
    again = run_benchmark(work, data, quick=True, seeds=(0, 1),
                          methods=methods)
    assert '] training ' not in capsys.readouterr().out
    assert again['table'] == output['table']
    # Same seed, same weights (CPU training is deterministic): softmax seed
    # 1 trained again elsewhere; another seed gives other weights.
    rerun = str(tmp_path / 'rerun')
    run_benchmark(rerun, data, quick=True, seeds=(1, ), methods=['softmax'])
    first = torch.load(f'{work}/seed1/softmax/iter_4.pth')['state_dict']
    second = torch.load(f'{rerun}/seed1/softmax/iter_4.pth')['state_dict']
    assert all(torch.equal(first[key], second[key]) for key in first)
    other = torch.load(f'{work}/seed0/softmax/iter_4.pth')['state_dict']
    assert not torch.equal(first['backbone.conv1.weight'],
                           other['backbone.conv1.weight'])


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


def _bench_cfg(name):
    from mmengine.config import Config

    from mmdet_bags.package_files import config_path
    return Config.fromfile(config_path(f'benchmark/{name}'))


def test_configs_fit_another_generated_set():
    from mmdet_bags.analysis.longtail_benchmark import fit_to_data
    data = dict(class_names=[f'c{i}' for i in range(100)],
                bin_edges=(2, 24, 243), scale_factor=0.24285)
    adapt = fit_to_data(data)
    bags = _bench_cfg('bags_mask-rcnn_r18_fpn_random-2k_longtail-small.py')
    adapt(bags)
    head = bags.model.roi_head.bbox_head
    assert head.num_classes == 100 and tuple(head.bin_edges) == (2, 24, 243)
    assert bags.model.roi_head.mask_head.num_classes == 100
    assert tuple(bags.test_evaluator.bin_edges) == (2, 24, 243)
    eight = _bench_cfg(
        'bags_mask-rcnn_r18_fpn_decoupled-1200i-8bins_longtail-small.py')
    adapt(eight)
    # (5, 10, 50, 100, 500, 1000, 5000) x 0.24285, rounded half up.
    assert tuple(eight.model.roi_head.bbox_head.bin_edges) == (
        1, 2, 12, 24, 121, 243, 1214)
    assert tuple(eight.test_evaluator.bin_edges) == (2, 24, 243)
    seesaw = _bench_cfg('seesaw_mask-rcnn_r18_fpn_random-2k_longtail-small.py')
    adapt(seesaw)
    assert seesaw.model.roi_head.bbox_head.loss_cls.num_classes == 100


def test_backbone_swap_builds_a_resnet50_detector():
    from mmdet.registry import MODELS

    from mmdet_bags.analysis.longtail_benchmark import use_backbone
    cfg = _bench_cfg('softmax_mask-rcnn_r18_fpn_random-2k_longtail-small.py')
    use_backbone('r50')(cfg)
    model = MODELS.build(cfg.model)
    assert model.backbone.depth == 50
    assert model.neck.in_channels == [256, 512, 1024, 2048]
    with pytest.raises(ValueError, match="backbone must be one of"):
        use_backbone('r34')


def test_results_table_reads_run_records(tmp_path):
    from mmdet_bags.analysis.results_table import load_run_metrics
    from mmdet_bags.analysis.seeds import write_record
    path = write_record(str(tmp_path), 0, 'softmax', dict(
        method='softmax', metrics={'lvis/bbox_AP': 0.25}))
    assert load_run_metrics(path) == {'lvis/bbox_AP': 0.25}


def test_fingerprint_is_the_recipe_only(tmp_path):
    from mmengine.config import ConfigDict

    from mmdet_bags.analysis.seeds import config_fingerprint

    def cfg(**kwargs):
        base = dict(model=dict(type='X', depth=18), work_dir='/a',
                    load_from='/a/x.pth', bench_unused=1,
                    train_dataloader=dict(dataset=dict(
                        data_root=str(tmp_path / 'data'))))
        base.update(kwargs)
        return ConfigDict(base)
    reference = config_fingerprint(cfg(), str(tmp_path / 'data'))
    # Machine, run and helper variables do not count; the data location
    # neither (the same recipe on another machine).
    assert config_fingerprint(cfg(work_dir='/b', load_from=None,
                                  bench_unused=2),
                              str(tmp_path / 'data')) == reference
    moved = cfg(train_dataloader=dict(dataset=dict(data_root='/other')))
    assert config_fingerprint(moved, '/other') == reference
    assert config_fingerprint(cfg(model=dict(type='X', depth=50)),
                              str(tmp_path / 'data')) != reference


def test_a_smoke_run_evaluates_its_own_images_only(tmp_path):
    """--quick: the test set and the evaluator read a file of the first 8
    validation images (LVIS's evaluation would visit every image of the
    full file), rewritten from the current file each time."""
    from mmdet_bags.analysis.experiments import SMOKE_IMAGES, build_stage_cfg
    from mmdet_bags.analysis.longtail_benchmark import STAGES
    from mmdet_bags.datasets.json_files import write_json
    data = tmp_path / 'data'
    (data / 'annotations').mkdir(parents=True)

    def write_val(num_images):
        images = [dict(id=i + 1, file_name=f'{i}.jpg', height=8, width=8,
                       neg_category_ids=[], not_exhaustive_category_ids=[])
                  for i in range(num_images)]
        annotations = [dict(id=i + 1, image_id=i + 1, category_id=1,
                            bbox=[0, 0, 2, 2], area=4)
                       for i in range(num_images)]
        write_json(str(data / 'annotations' / 'lvis_v1_val.json'),
                   dict(images=images, annotations=annotations,
                        categories=[dict(id=1, name='a', frequency='r')]))

    write_val(20)
    for expected in (SMOKE_IMAGES, 5):
        cfg = build_stage_cfg(STAGES[0], str(tmp_path / 'work'), str(data),
                              {}, quick=True)
        assert cfg.test_evaluator.ann_file == \
            cfg.test_dataloader.dataset.ann_file
        smoke = json.load(open(cfg.test_evaluator.ann_file))
        assert [image['id'] for image in smoke['images']] == \
            list(range(1, expected + 1))
        assert {a['image_id'] for a in smoke['annotations']} == \
            set(range(1, expected + 1))
        assert cfg.model.test_cfg.rcnn.max_per_img == 20
        write_val(5)  # a regenerated, smaller set: the file follows it
    full = build_stage_cfg(STAGES[0], str(tmp_path / 'work'), str(data), {})
    assert full.test_evaluator.ann_file.endswith(
        'annotations/lvis_v1_val.json')


def test_a_retrained_baseline_invalidates_every_decoupled_record(
        fake_benchmark, monkeypatch, capsys):
    """A baseline trained again for one decoupled method (its checkpoint
    gone) replaces its record: the other decoupled methods' records of that
    seed came from the old baseline and must be redone, not reported beside
    the new one."""
    import shutil

    from mmdet_bags.analysis import longtail_benchmark
    fake, run, root = fake_benchmark
    both = longtail_benchmark.select_stages(['bags_decoupled',
                                             'bags_decoupled_normed'])

    def run_stages(stages):
        return longtail_benchmark.run_seeds(
            stages, str(root / 'work'), str(root / 'data'), [0],
            str(root / 'runs'), dict(data=dict(
                preset='small', seed=0, overrides={}), quick=False,
                backbone='r18'))
    run_stages(both)
    record = json.load(open(root / 'runs' / 'seed0' / 'bags_decoupled.json'))
    baseline = json.load(open(root / 'runs' / 'seed0' / 'softmax.json'))
    assert record['baseline'] == {key: baseline[key] for key in (
        'finished', 'fingerprint', 'git_commit')}
    # Next session: no checkpoints; one variant is screened on its own.
    shutil.rmtree(root / 'work')
    (root / 'runs' / 'seed0' / 'bags_decoupled_normed.json').unlink()
    import itertools
    clock = (f'2030-01-01 00:00:{second:02d}'
             for second in itertools.count())
    monkeypatch.setattr(longtail_benchmark.time, 'strftime',
                        lambda fmt: next(clock))
    run_stages(longtail_benchmark.select_stages(['bags_decoupled_normed']))
    fake.calls.clear()
    capsys.readouterr()
    # bags_decoupled's record is of the old baseline: redone, not reused.
    runs = run_stages(longtail_benchmark.select_stages(['bags_decoupled']))
    assert fake.calls == [(0, ['softmax', 'bags_decoupled'], [
        'bags_decoupled'])]
    assert 'trained from another softmax run' in capsys.readouterr().out
    assert runs['bags_decoupled'][0]['baseline']['finished'] == \
        '2030-01-01 00:00:00'


def test_a_decoupled_record_names_its_baseline_run():
    from mmdet_bags.analysis.seeds import from_baseline
    baseline = dict(finished='2026-12-02 21:44:04', fingerprint='a',
                    git_commit='c')
    linked = dict(baseline=dict(baseline))
    assert from_baseline(linked, baseline)
    assert not from_baseline(linked, dict(baseline, finished='2027'))
    assert not from_baseline(linked, None)
    # Records older than the link: only a baseline finished later breaks it.
    assert from_baseline(dict(finished='2026-12-02 22:00:00'), baseline)
    assert not from_baseline(dict(finished='2026-12-02 05:41:07'), baseline)
