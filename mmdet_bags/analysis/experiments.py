"""Train, evaluate and compare several configs on a generated long-tail set.

The engine behind ``make demo`` and ``tools/benchmark_longtail.py``: every
stage is one config trained through MMEngine's ``Runner`` and evaluated with
the LVIS metric plus per-bin AP. Stages are resumable: a stage whose final
checkpoint exists is not retrained, and its metrics are not recomputed, unless
asked.
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from mmdet_bags.datasets.json_files import write_json
from mmdet_bags.package_files import config_path

TABLE_KEYS = ('AP', 'APr', 'APc', 'APf')
#: Fixed AP (Dave et al., 2021), reported by PerBinLVISMetric(ap_fixed=True).
FIXED_TABLE_KEYS = ('APfixed', 'APfixedr', 'APfixedc', 'APfixedf')


@dataclass(frozen=True)
class Stage:
    """One trained model.

    Attributes:
        name: folder under the work dir, key of the results.
        title: row name in the table.
        config: path relative to the shipped ``configs/`` (found through
            :func:`~mmdet_bags.package_files.config_path`, installed or not).
        load_from_stage: stage whose final checkpoint initialises this one
            (the decoupled recipe starts from a baseline).
    """
    name: str
    title: str
    config: str
    load_from_stage: Optional[str] = None


def point_to_data(cfg, data_root: str) -> None:
    """Make a config built on the generated set read it from ``data_root``
    (dataloaders, evaluators and the BAGS groups' annotation file)."""
    data_root = data_root.rstrip('/') + '/'
    train_ann = data_root + 'annotations/lvis_v1_train.json'
    val_ann = data_root + 'annotations/lvis_v1_val.json'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        # ClassBalancedDataset (repeat-factor sampling) wraps the dataset.
        inner = dataset.dataset if 'dataset' in dataset else dataset
        inner.data_root = data_root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = val_ann
        cfg[evaluator].train_ann_file = train_ann
    head = cfg.model.roi_head.bbox_head
    if isinstance(head.get('groups'), dict) and 'ann_file' in head.groups:
        head.groups.ann_file = train_ann


def _final_checkpoint(cfg) -> str:
    train_cfg = cfg.train_cfg
    if train_cfg.get('type') == 'IterBasedTrainLoop':
        return osp.join(cfg.work_dir, f'iter_{train_cfg.max_iters}.pth')
    return osp.join(cfg.work_dir, f'epoch_{train_cfg.max_epochs}.pth')


#: The checkpoint a finished run of ``cfg`` leaves in its work dir.
final_checkpoint = _final_checkpoint


SMOKE_IMAGES = 8  #: images of a smoke run's training and test sets


def _smoke_test_file(val_ann: str, work_dir: str) -> str:
    """An annotation file of the first :data:`SMOKE_IMAGES` images of
    ``val_ann`` (all categories kept), beside the stages' work dirs: a smoke
    run evaluates those images only, since LVIS's evaluation otherwise
    visits every image of the file. Written on every call, so it always
    follows the current ``val_ann``."""
    path = osp.join(osp.dirname(osp.abspath(work_dir)),
                    f'smoke_{SMOKE_IMAGES}_' + osp.basename(val_ann))
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(val_ann) as file:
        content = json.load(file)
    content['images'] = content['images'][:SMOKE_IMAGES]
    kept = {image['id'] for image in content['images']}
    content['annotations'] = [annotation for annotation in
                              content['annotations']
                              if annotation['image_id'] in kept]
    write_json(path, content)
    return path


#: Test-time (proposals, detections) per image of smoke runs and tests.
SMOKE_TEST_SIZES = (100, 20)


def use_small_test_sizes(model_cfg, sizes=SMOKE_TEST_SIZES) -> None:
    """Test-time proposals and detections per image (every cascade stage):
    an almost untrained detector passes most RoIs, so its heads would run
    on 1000 proposals and 300 detections; the code path stays the same."""
    proposals, detections = sizes
    model_cfg.test_cfg.rpn.update(nms_pre=proposals, max_per_img=proposals)
    rcnn = model_cfg.test_cfg.rcnn
    for stage in rcnn if isinstance(rcnn, list) else [rcnn]:
        stage.max_per_img = detections


def _shrink_for_smoke_run(cfg) -> None:
    """A handful of images and iterations, same code paths."""
    dataset = cfg.train_dataloader.dataset
    inner = dataset.dataset if 'dataset' in dataset else dataset
    inner.indices = SMOKE_IMAGES
    test_file = _smoke_test_file(cfg.test_evaluator.ann_file, cfg.work_dir)
    cfg.test_dataloader.dataset.ann_file = test_file
    cfg.test_evaluator.ann_file = test_file
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False)
    use_small_test_sizes(cfg.model)
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.max_iters = 4
        for scheduler in cfg.param_scheduler:
            if scheduler.get('end', 0) > 4:
                scheduler.end = 4
            if 'milestones' in scheduler:
                scheduler.milestones = [3]
        cfg.default_hooks.checkpoint.interval = 4
    cfg.default_hooks.logger.interval = 1


def build_stage_cfg(stage: Stage, work_root: str, data_root: str,
                    checkpoints: Dict[str, str], quick: bool = False,
                    randomness: Optional[dict] = None,
                    adapt: Optional[Callable] = None):
    """The stage's config, pointed at the data and work dir, ready to run.

    ``randomness`` (e.g. ``dict(seed=1)``) updates the config's MMEngine
    ``randomness``; ``adapt(cfg)`` may change the config further (e.g. fit
    it to another generated set) after the data paths are set.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config_path(stage.config))
    cfg.work_dir = osp.join(work_root, stage.name)
    point_to_data(cfg, data_root)
    if randomness:
        cfg.randomness = dict(cfg.get('randomness') or {}, **randomness)
    if adapt is not None:
        adapt(cfg)
    if stage.load_from_stage is not None:
        cfg.load_from = checkpoints[stage.load_from_stage]
    # Evaluation is a separate step on the test set (so finished stages can
    # be evaluated again without training): no validation inside training.
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None
    if quick:
        _shrink_for_smoke_run(cfg)
    return cfg


def interrupted_checkpoint(cfg) -> Optional[str]:
    """The last checkpoint of an interrupted run of this stage, if any
    (MMEngine writes ``last_checkpoint`` in the work dir at every save)."""
    pointer = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as file:
        path = file.read().strip()
    return path if osp.isfile(path) else None


def train_stage(cfg, continue_interrupted: bool = True) -> None:
    """Train the stage; an interrupted earlier run continues from its last
    checkpoint (``resume``) instead of starting over."""
    from mmengine.runner import Runner
    if continue_interrupted:
        partial = interrupted_checkpoint(cfg)
        if partial is not None:
            print(f'continuing the interrupted run from {partial}',
                  flush=True)
            cfg = cfg.copy()
            cfg.load_from = partial
            cfg.resume = True
    Runner.from_cfg(cfg).train()


def evaluate_checkpoint(cfg, checkpoint: str) -> Dict[str, float]:
    """Test metrics of ``checkpoint`` with the config's test set."""
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.custom_hooks = []  # training hooks (e.g. classifier-only): not here
    runner = Runner.from_cfg(cfg)
    return {key: float(value) for key, value in runner.test().items()}


def run_stages(stages: Sequence[Stage], work_root: str, data_root: str,
               force: Sequence[str] = (), quick: bool = False,
               log_prefix: str = '[experiments]',
               randomness: Optional[dict] = None,
               adapt: Optional[Callable] = None,
               on_result: Optional[Callable[[str, dict, object], None]] = None
               ) -> Dict[str, dict]:
    """Train (or reuse) and evaluate (or reuse) every stage in order.

    ``randomness`` and ``adapt`` go to :func:`build_stage_cfg`;
    ``on_result(name, result, cfg)`` is called as soon as a stage is done
    (so a caller can keep it before the next stage starts).

    Returns:
        dict: per stage name: ``title``, ``config``, ``checkpoint``,
        ``metrics``, ``retrained``, ``seconds``.
    """
    force = set(force)
    results: Dict[str, dict] = {}
    checkpoints: Dict[str, str] = {}
    for position, stage in enumerate(stages, start=1):
        cfg = build_stage_cfg(stage, work_root, data_root, checkpoints, quick,
                              randomness, adapt)
        checkpoint = _final_checkpoint(cfg)
        metrics_file = osp.join(cfg.work_dir, 'metrics.json')
        upstream_retrained = stage.load_from_stage is not None and \
            results[stage.load_from_stage]['retrained']
        redo = 'all' in force or stage.name in force or upstream_retrained
        started = time.time()
        retrained = False
        if redo or not osp.isfile(checkpoint):
            print(f'{log_prefix} [{position}/{len(stages)}] training '
                  f'{stage.title}: configs/{stage.config}', flush=True)
            train_stage(cfg, continue_interrupted=not redo)
            retrained = True
        else:
            print(f'{log_prefix} [{position}/{len(stages)}] reusing '
                  f'{checkpoint}', flush=True)
        if retrained or not osp.isfile(metrics_file):
            print(f'{log_prefix} [{position}/{len(stages)}] evaluating '
                  f'{stage.title}', flush=True)
            metrics = evaluate_checkpoint(cfg, checkpoint)
            os.makedirs(cfg.work_dir, exist_ok=True)
            with open(metrics_file, 'w') as file:
                json.dump(metrics, file, indent=1)
        else:
            with open(metrics_file) as file:
                metrics = json.load(file)
        checkpoints[stage.name] = checkpoint
        results[stage.name] = dict(
            title=stage.title, config=f'configs/{stage.config}',
            checkpoint=checkpoint, metrics=metrics, retrained=retrained,
            seconds=round(time.time() - started, 1))
        if on_result is not None:
            on_result(stage.name, results[stage.name], cfg)
    return results


def metric(metrics: Dict[str, float], iou_type: str, name: str) -> float:
    """One run's value, or the mean over seeds (see
    :mod:`mmdet_bags.analysis.seeds`); NaN if absent."""
    from mmdet_bags.analysis.seeds import metric_mean
    value = metrics.get(f'lvis/{iou_type}_{name}')
    return float('nan') if value is None else metric_mean(value)


def format_results_table(results: Dict[str, dict],
                         bin_edges: Sequence[int],
                         iou_types: Sequence[str] = ('bbox', 'segm')) -> str:
    """Markdown table: one row per stage; AP, APr/c/f, AP per bin and
    Fixed AP (``mean ± std`` where a stage has several seeds; n/a where a
    stage's metrics lack a key)."""
    from mmdet_bags.analysis.seeds import format_metric
    num_bins = len(bin_edges) + 1
    names = list(TABLE_KEYS) + [f'AP{i}' for i in range(1, num_bins + 1)] + \
        list(FIXED_TABLE_KEYS)
    header = ['method'] + [f'{iou} {name}' for iou in iou_types
                           for name in names]
    lines = ['| ' + ' | '.join(header) + ' |',
             '|---|' + '---:|' * (len(header) - 1)]
    for result in results.values():
        cells = [result['title']]
        for iou_type in iou_types:
            for name in names:
                cells.append(format_metric(
                    result['metrics'].get(f'lvis/{iou_type}_{name}')))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _bin_errors(results: Dict[str, dict], iou_type: str,
                num_bins: int) -> Optional[Dict[str, List[float]]]:
    """Std over seeds of each bin's AP per stage, None if no stage has
    several seeds (the plot then has no error bars)."""
    from mmdet_bags.analysis.seeds import metric_std
    errors = {}
    for result in results.values():
        stds = [metric_std(result['metrics'].get(f'lvis/{iou_type}_AP{i}',
                                                 -1.0))
                for i in range(1, num_bins + 1)]
        errors[result['title']] = [std or 0.0 for std in stds]
    return errors if any(any(e) for e in errors.values()) else None


def write_report(results: Dict[str, dict], bin_edges: Sequence[int],
                 instance_counts: Sequence[int], work_root: str,
                 extra: Optional[dict] = None,
                 iou_types: Sequence[str] = ('bbox', 'segm')) -> dict:
    """Write the table (markdown and JSON) and the plots; return paths and
    the markdown table."""
    import torch

    from mmdet_bags.analysis.plots import (bin_labels, classifier_class_norms,
                                           plot_ap_per_bin,
                                           plot_classifier_norms)
    table = format_results_table(results, bin_edges, iou_types)
    files = dict(table_md=osp.join(work_root, 'results.md'),
                 table_json=osp.join(work_root, 'results.json'),
                 norms_png=osp.join(work_root, 'classifier_norms.png'))
    with open(files['table_md'], 'w') as file:
        file.write(table + '\n')
    with open(files['table_json'], 'w') as file:
        json.dump(dict(bin_edges=list(bin_edges),
                       instance_counts=list(instance_counts),
                       results=results, **(extra or {})), file, indent=1)
    norms = {}
    for result in results.values():
        # Results of earlier sessions may come without their checkpoint.
        if not result.get('checkpoint') or \
                not osp.isfile(result['checkpoint']):
            continue
        state = torch.load(result['checkpoint'], map_location='cpu')
        norms[result['title']] = classifier_class_norms(
            state['state_dict'], len(instance_counts))
    plot_classifier_norms(norms, instance_counts, files['norms_png'],
                          title='Classifier weight norm per class '
                          '(classes sorted by training instances)')
    labels = bin_labels(bin_edges)
    for iou_type in iou_types:
        files[f'{iou_type}_bins_png'] = osp.join(work_root,
                                                 f'ap_per_bin_{iou_type}.png')
        plot_ap_per_bin(
            {result['title']: [metric(result['metrics'], iou_type, f'AP{i}')
                               for i in range(1, len(labels) + 1)]
             for result in results.values()}, labels,
            files[f'{iou_type}_bins_png'],
            title=f'{iou_type} AP per training-instance bin',
            errors=_bin_errors(results, iou_type, len(labels)))
    return dict(table=table, files=files)


def run_experiment(name: str, preset: str, stages: Sequence[Stage],
                   work_root: str, data_root: str, force: Sequence[str],
                   quick: bool, seed: int,
                   verdicts_of: Optional[Callable[[Dict[str, dict]],
                                                  List[str]]] = None
                   ) -> dict:
    """Generate (or reuse) a long-tail set, run the stages, write the report.

    The shared body of ``make demo`` and the long-tail benchmark.

    Args:
        name: log prefix (``[name] ...``).
        preset: generator preset of the data.
        stages, work_root, data_root, quick: as :func:`run_stages`.
        force: redo these even if done: ``'data'``, stage names, ``'all'``.
        seed: dataset seed.
        verdicts_of: optional function of the results giving lines that are
            stored in ``results.json`` (``verdicts``), appended to
            ``results.md`` and printed.

    Returns:
        dict: ``results``, ``bin_edges``, ``verdicts`` (None without
        ``verdicts_of``), ``table`` and ``files`` (see :func:`write_report`).
    """
    from mmdet_bags.datasets import generate_longtail_lvis
    force = set(force)
    os.makedirs(work_root, exist_ok=True)
    started = time.time()
    print(f'[{name}] dataset: {data_root} ("{preset}" preset, seed {seed})',
          flush=True)
    data = generate_longtail_lvis(data_root, preset=preset, seed=seed,
                                  force='all' in force or 'data' in force)
    results = run_stages(stages, work_root, data_root, force, quick,
                         log_prefix=f'[{name}]')
    verdicts = None if verdicts_of is None else verdicts_of(results)
    extra = dict(quick=quick, seed=seed)
    if verdicts is not None:
        extra['verdicts'] = verdicts
    extra['seconds'] = round(time.time() - started, 1)
    report = write_report(results, data['bin_edges'],
                          data['instance_counts'], work_root, extra=extra)
    lines = verdicts or []
    if lines:
        with open(report['files']['table_md'], 'a') as file:
            file.write('\n' + '\n'.join(f'- {line}' for line in lines) +
                       '\n')
    print('\n' + '\n'.join([report['table']] + lines), flush=True)
    print(f'[{name}] done in {time.time() - started:.0f} s; table, plots and '
          f'checkpoints in {work_root}', flush=True)
    return dict(results=results, bin_edges=tuple(data['bin_edges']),
                verdicts=verdicts, **report)
