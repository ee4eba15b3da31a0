"""The long-tail benchmark: softmax, repeat-factor sampling, Seesaw and BAGS
(decoupled, end-to-end, decoupled on an RFS baseline), plus opt-in BAGS
variants, with the same backbone and schedule on a generated long-tail set,
on CPU, over several training seeds.

Used by ``tools/benchmark_longtail.py``; every method is a config in
``configs/benchmark/`` run through MMEngine's Runner. Resumable per
(method, training seed): finished runs are kept as records in the repository
(``docs/benchmark/runs/seed<s>/<method>.json``, see
:mod:`mmdet_bags.analysis.seeds`), so a later session trains only what is
missing. A decoupled stage needs its baseline's checkpoint of the same seed:
if only the baseline's record survived, the baseline is trained again (and
its record replaced), so a decoupled record always comes from the baseline
recorded beside it.
"""
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence

from mmdet_bags.analysis.experiments import (Stage, build_stage_cfg,
                                             final_checkpoint, run_stages,
                                             write_report)
from mmdet_bags.analysis.seeds import (aggregate_runs, baseline_reference,
                                       config_fingerprint, format_seed_values,
                                       from_baseline, git_commit, load_record,
                                       machine_description, record_path,
                                       write_record)
from mmdet_bags.analysis.verdicts import fixed_ap_gains, target_verdicts

_CFG = 'benchmark/{}_mask-rcnn_r18_fpn_{}_longtail-small.py'
_DECOUPLED = _CFG.format('bags', 'decoupled-1200i')
#: The benchmark's methods, in run order: a decoupled stage right after its
#: baseline (it needs the baseline's checkpoint from the same session).
STAGES = (
    Stage('softmax', 'softmax CE', _CFG.format('softmax', 'random-2k')),
    Stage('bags_decoupled', 'BAGS decoupled (paper recipe, scaled)',
          _DECOUPLED,
          load_from_stage='softmax'),
    Stage('softmax_rfs', 'softmax CE + RFS',
          _CFG.format('softmax-rfs', 'sample1e-3-2k')),
    Stage('bags_decoupled_rfs', 'BAGS decoupled on RFS baseline', _DECOUPLED,
          load_from_stage='softmax_rfs'),
    Stage('seesaw', 'Seesaw', _CFG.format('seesaw', 'random-2k')),
    Stage('bags_end_to_end', 'BAGS end-to-end',
          _CFG.format('bags', 'random-2k')),
)
#: Opt-in BAGS variants (``--methods``), each one config changing one thing.
VARIANTS = (
    Stage('bags_decoupled_normed', 'BAGS decoupled + cosine classifier',
          _CFG.format('bags', 'decoupled-1200i-normed'),
          load_from_stage='softmax'),
    Stage('bags_decoupled_initcls', 'BAGS decoupled, classifier from '
          'baseline', _CFG.format('bags', 'decoupled-1200i-initcls'),
          load_from_stage='softmax'),
    Stage('bags_decoupled_long', 'BAGS decoupled, 3x classifier schedule',
          _CFG.format('bags', 'decoupled-3600i'), load_from_stage='softmax'),
    Stage('bags_decoupled_long_normed', 'BAGS decoupled, 3x classifier '
          'schedule + cosine classifier',
          _CFG.format('bags', 'decoupled-3600i-normed'),
          load_from_stage='softmax'),
    Stage('bags_decoupled_8bins', 'BAGS decoupled, 8 bins (paper ablation)',
          _CFG.format('bags', 'decoupled-1200i-8bins'),
          load_from_stage='softmax'),
    Stage('bags_end_to_end_normed', 'BAGS end-to-end + cosine classifier',
          _CFG.format('bags', 'random-2k-normed')),
    Stage('bags_end_to_end_rfs', 'BAGS end-to-end + RFS',
          _CFG.format('bags', 'sample1e-3-2k')),
)
ALL_STAGES = STAGES + VARIANTS
DEFAULT_METHODS = tuple(stage.name for stage in STAGES)

def select_stages(methods: Sequence[str]) -> List[Stage]:
    """The stages of ``methods`` in run order, each baseline a decoupled
    method starts from included before it."""
    by_name = {stage.name: stage for stage in ALL_STAGES}
    unknown = [name for name in methods if name not in by_name]
    if unknown:
        raise ValueError(f'unknown benchmark methods {unknown}; known: '
                         f'{", ".join(by_name)}')
    wanted = set(methods)
    for name in methods:
        if by_name[name].load_from_stage:
            wanted.add(by_name[name].load_from_stage)
    return [stage for stage in ALL_STAGES if stage.name in wanted]


def default_runs_dir(preset: str, data_seed: int, overrides: dict,
                     quick: bool, work_root: str,
                     backbone: str = 'r18') -> str:
    """Where the run records go: ``docs/benchmark/runs`` for the benchmark
    set and ResNet-18, ``docs/benchmark/runs[-<backbone>][-<preset>-seed<s>
    [-<k>=<v>...]]`` otherwise, ``<work_root>/runs`` for smoke runs (not
    meant to be kept)."""
    if quick:
        return osp.join(work_root, 'runs')
    name = 'runs' + ('' if backbone == 'r18' else f'-{backbone}')
    if preset != 'small' or data_seed != 0 or overrides:
        name += f'-{preset}-seed{data_seed}' + ''.join(
            f'-{key}={value}' for key, value in sorted(overrides.items()))
    return osp.join('docs', 'benchmark', name)


#: Backbones of the cross-backbone run: ResNet depth and FPN input widths.
BACKBONES = {'r18': (18, [64, 128, 256, 512]),
             'r50': (50, [256, 512, 1024, 2048])}


def use_backbone(name: str) -> Callable:
    """A config adapter swapping the benchmark's ResNet-18 for another
    ResNet of :data:`BACKBONES` (from scratch too, same neck width, same
    schedule)."""
    if name not in BACKBONES:
        raise ValueError(f'backbone must be one of {sorted(BACKBONES)}, got '
                         f'{name!r}')
    depth, in_channels = BACKBONES[name]

    def adapt(cfg) -> None:
        cfg.model.backbone.depth = depth
        cfg.model.neck.in_channels = in_channels
    return adapt


def fit_to_data(data: dict) -> Callable:
    """A config adapter for a generated set other than the one the configs
    name (another class count or dataset seed): sets the number of classes
    and the bin edges (the data's scaled edges; a config with the paper's 8
    bins gets those edges scaled by the data's factor)."""
    from mmdet_bags.datasets import scaled_bin_edges
    num_classes = len(data['class_names'])
    edges = tuple(data['bin_edges'])

    def adapt(cfg) -> None:
        roi_head = cfg.model.roi_head
        head = roi_head.bbox_head
        for module in (head, roi_head.mask_head, head.get('loss_cls', {})):
            if 'num_classes' in module:
                module.num_classes = num_classes
        if head.get('bin_edges') is not None:
            if tuple(head.bin_edges) == tuple(cfg.bench_bin_edges):
                head.bin_edges = edges
            elif tuple(head.bin_edges) == tuple(cfg.bench_8bin_edges):
                head.bin_edges = scaled_bin_edges(data['scale_factor'],
                                                  cfg.bench_paper_8bin_edges)
            else:
                raise ValueError(f'{cfg.filename}: bin_edges '
                                 f'{head.bin_edges} are neither the 4- nor '
                                 'the 8-bin benchmark edges')
        for evaluator in ('val_evaluator', 'test_evaluator'):
            cfg[evaluator].bin_edges = edges
    return adapt


def run_seeds(stages: Sequence[Stage], work_root: str, data_root: str,
              seeds: Sequence[int], runs_dir: str, identity: dict,
              force: Sequence[str] = (), randomness: Optional[dict] = None,
              adapt: Optional[Callable] = None) -> Dict[str, Dict[int, dict]]:
    """Every stage for every seed, reusing the runs already recorded.

    Args:
        identity: what every record of ``runs_dir`` shares and is checked
            for: ``data`` (generator preset, seed, overrides), ``quick``,
            ``backbone``.
        Others: as :func:`run_benchmark`.

    Returns:
        dict: per stage name, per seed: its run record.
    """
    force = set(force)
    quick = identity['quick']
    runs: Dict[str, Dict[int, dict]] = {stage.name: {} for stage in stages}
    by_name = {stage.name: stage for stage in stages}
    for seed in seeds:
        seed_root = osp.join(work_root, f'seed{seed}')
        seed_randomness = dict(randomness or {}, seed=seed)
        cfgs = {stage.name: build_stage_cfg(
            stage, seed_root, data_root, {s.name: '' for s in stages}, quick,
            seed_randomness, adapt) for stage in stages}
        redo, stale = set(), set()
        for stage in stages:
            # A run redone for its baseline's sake follows the baseline.
            forced = 'all' in force or stage.name in force or \
                stage.load_from_stage in stale
            record = None if forced or stage.load_from_stage in redo else \
                load_record(runs_dir, seed, stage.name, identity,
                            config_fingerprint(cfgs[stage.name], data_root))
            if record is not None and stage.load_from_stage is not None \
                    and not from_baseline(record, runs[
                        stage.load_from_stage].get(seed)):
                print(f'[benchmark] seed {seed}: the recorded '
                      f'{stage.name} was trained from another '
                      f'{stage.load_from_stage} run than the one recorded '
                      f'now: redoing {stage.name}', flush=True)
                record = None
            if record is not None:
                runs[stage.name][seed] = record
                continue
            redo.add(stage.name)
            if forced or osp.isfile(record_path(runs_dir, seed, stage.name)):
                stale.add(stage.name)  # never reuse its work dir
        if not redo:
            print(f'[benchmark] seed {seed}: every method recorded in '
                  f'{runs_dir}', flush=True)
            continue
        needed = set(redo)
        for name in sorted(redo):
            upstream = by_name[name].load_from_stage
            if upstream is None or upstream in redo:
                continue
            needed.add(upstream)  # reused if its checkpoint is here
            if not osp.isfile(final_checkpoint(cfgs[upstream])):
                print(f'[benchmark] seed {seed}: {name} needs the '
                      f'{upstream} checkpoint, not here: training {upstream} '
                      'again (its record is replaced)', flush=True)
                redo.add(upstream)
        todo = [stage for stage in stages if stage.name in needed]

        def keep(name, result, cfg, seed=seed, redo=frozenset(redo)):
            if name not in redo and not result['retrained']:
                return  # a baseline reused for its checkpoint
            record = dict(
                method=name, title=result['title'], config=result['config'],
                seed=seed, **identity, randomness=dict(cfg.randomness),
                load_from_stage=by_name[name].load_from_stage,
                fingerprint=config_fingerprint(cfg, data_root),
                metrics=result['metrics'], seconds=result['seconds'],
                retrained=result['retrained'], checkpoint=result['checkpoint'],
                baseline=None if by_name[name].load_from_stage is None else
                baseline_reference(
                    runs[by_name[name].load_from_stage][seed]),
                git_commit=git_commit(), machine=machine_description(),
                finished=time.strftime('%Y-%m-%d %H:%M:%S'))
            path = write_record(runs_dir, seed, name, record)
            print(f'[benchmark] seed {seed}: {name} recorded in {path}',
                  flush=True)
            runs[name][seed] = record

        run_stages(todo, seed_root, data_root, sorted(stale), quick,
                   log_prefix=f'[benchmark seed {seed}]',
                   randomness=seed_randomness, adapt=adapt, on_result=keep)
    return runs


SEED_TABLE_KEYS = ('lvis/bbox_AP', 'lvis/bbox_APr', 'lvis/bbox_APc',
                   'lvis/bbox_APf', 'lvis/segm_AP', 'lvis/segm_APr')


def run_benchmark(work_root: str = 'work_dirs/benchmark_longtail',
                  data_root: str = 'data/longtail_small',
                  force: Sequence[str] = (),
                  quick: bool = False,
                  seed: int = 0,
                  seeds: Sequence[int] = (0, ),
                  methods: Sequence[str] = DEFAULT_METHODS,
                  runs_dir: Optional[str] = None,
                  report_dir: Optional[str] = None,
                  data_overrides: Optional[dict] = None,
                  deterministic: bool = False,
                  report_only: bool = False,
                  backbone: str = 'r18') -> dict:
    """Generate (or reuse) the data, run every method for every training
    seed (or reuse its record), write the report.

    Args:
        work_root: checkpoints and logs, ``seed<s>/<method>/``.
        data_root: the generated long-tail set (made if missing).
        force: redo these even if recorded: ``'data'``, method names,
            ``'all'``.
        quick: smoke run (8 images, 4 iterations per method).
        seed: dataset seed.
        seeds: training seeds (``cfg.randomness.seed``).
        methods: stage names (:data:`STAGES`, :data:`VARIANTS`); baselines
            of decoupled methods are added.
        runs_dir: run records (default: :func:`default_runs_dir`).
        report_dir: table (``results.md``/``.json``) and plots (default:
            ``work_root``).
        data_overrides: generator settings replacing the "small" preset's
            (e.g. ``dict(num_classes=100)``): a second benchmark set.
        deterministic: MMEngine ``randomness.deterministic=True``.
        report_only: train nothing; report the recorded runs.
        backbone: a key of :data:`BACKBONES` (the configs' is ``'r18'``).

    Returns:
        dict: ``results`` (aggregated per method), ``runs`` (per method, per
        seed), ``verdicts`` (:func:`target_verdicts`, then the gains under
        Fixed AP, :func:`fixed_ap_gains`), ``table``, ``files``, ``bin_edges``.
    """
    from mmdet_bags.datasets import generate_longtail_lvis
    started = time.time()
    overrides = dict(data_overrides or {})
    force = set(force)
    stages = select_stages(methods)
    runs_dir = runs_dir or default_runs_dir('small', seed, overrides, quick,
                                            work_root, backbone)
    report_dir = report_dir or work_root
    os.makedirs(report_dir, exist_ok=True)
    print(f'[benchmark] dataset: {data_root} ("small" preset, seed {seed}'
          f'{", " + str(overrides) if overrides else ""}); backbone '
          f'{backbone}; training seeds {list(seeds)}; records in {runs_dir}',
          flush=True)
    data = generate_longtail_lvis(data_root, preset='small', seed=seed,
                                  force='all' in force or 'data' in force,
                                  **overrides)
    identity = dict(data=dict(preset='small', seed=seed, overrides=overrides),
                    quick=quick, backbone=backbone)
    randomness = dict(deterministic=True) if deterministic else None
    adapters = [fit_to_data(data)] if overrides or seed != 0 else []
    if backbone != 'r18':
        adapters.append(use_backbone(backbone))

    def adapt(cfg):
        for adapter in adapters:
            adapter(cfg)
    if report_only:
        runs = {stage.name: {} for stage in stages}
        for stage in stages:
            for training_seed in seeds:
                record = load_record(runs_dir, training_seed, stage.name,
                                     identity)
                upstream = stage.load_from_stage
                if record is not None and upstream is not None and \
                        not from_baseline(record,
                                          runs[upstream].get(training_seed)):
                    print(f'{record_path(runs_dir, training_seed, stage.name)}'
                          f': trained from another {upstream} run than the '
                          'one recorded now; left out of the report (run '
                          'without --report-only to redo it)', flush=True)
                    continue
                if record is not None:
                    runs[stage.name][training_seed] = record
    else:
        runs = run_seeds(stages, work_root, data_root, seeds, runs_dir,
                         identity, force, randomness,
                         adapt if adapters else None)
    results = aggregate_runs(runs, seeds)
    for stage in stages:  # a record keeps the row name it was run under
        if stage.name in results:
            results[stage.name]['title'] = stage.title
    verdicts = target_verdicts(results) + fixed_ap_gains(results)
    extra = dict(quick=quick, seed=seed, seeds=list(seeds),
                 data_overrides=overrides, backbone=backbone,
                 runs_dir=runs_dir,
                 deterministic=deterministic, verdicts=verdicts,
                 seconds=round(time.time() - started, 1))
    report = write_report(results, data['bin_edges'],
                          data['instance_counts'], report_dir, extra=extra)
    seed_table = format_seed_values(results, SEED_TABLE_KEYS)
    with open(report['files']['table_md'], 'a') as file:
        file.write(f'\nEach seed\'s value (AP in %, seeds in order):\n\n'
                   f'{seed_table}\n')
        if verdicts:
            file.write('\n' + '\n'.join(f'- {line}' for line in verdicts) +
                       '\n')
    print('\n' + '\n'.join([report['table'], '', seed_table] + verdicts),
          flush=True)
    print(f'[benchmark] done in {time.time() - started:.0f} s; report in '
          f'{report_dir}, records in {runs_dir}', flush=True)
    return dict(results=results, runs=runs, verdicts=verdicts,
                bin_edges=tuple(data['bin_edges']), **report)
