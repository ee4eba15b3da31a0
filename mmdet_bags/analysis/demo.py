"""`make demo`: softmax baseline vs BAGS (decoupled and end-to-end) on the
generated tiny long-tail set, on CPU, through MMEngine's Runner and the demo
configs in ``configs/demo/``.

Each stage is resumable: data, checkpoints and metrics that already exist
are reused unless ``force`` asks otherwise, so re-running only redoes what
is missing.
"""
import json
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs', 'demo')


@dataclass(frozen=True)
class DemoStage:
    """One trained model of the demo.

    Attributes:
        name: folder under the demo's work dir, key of the results.
        title: row name in the table.
        config: file in ``configs/demo``.
        load_from_stage: stage whose final checkpoint initialises this one
            (the decoupled recipe starts from the baseline).
    """
    name: str
    title: str
    config: str
    load_from_stage: Optional[str] = None


STAGES = (
    DemoStage('baseline', 'softmax baseline',
              'baseline_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'),
    DemoStage('bags_decoupled', 'BAGS decoupled (paper)',
              'bags_mask-rcnn_r18_fpn_decoupled-2e_longtail-tiny.py',
              load_from_stage='baseline'),
    DemoStage('bags_end_to_end', 'BAGS end-to-end',
              'bags_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'),
)

TABLE_KEYS = ('AP', 'APr', 'APc', 'APf')


def _point_to_data(cfg, data_root: str) -> None:
    """Make a demo config read the dataset at ``data_root``."""
    data_root = data_root.rstrip('/') + '/'
    train_ann = data_root + 'annotations/lvis_v1_train.json'
    val_ann = data_root + 'annotations/lvis_v1_val.json'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = val_ann
        cfg[evaluator].train_ann_file = train_ann
    head = cfg.model.roi_head.bbox_head
    if isinstance(head.get('groups'), dict) and 'ann_file' in head.groups:
        head.groups.ann_file = train_ann


def _final_checkpoint(work_dir: str, max_epochs: int) -> str:
    return osp.join(work_dir, f'epoch_{max_epochs}.pth')


def _build_cfg(stage: DemoStage, work_root: str, data_root: str,
               checkpoints: Dict[str, str], quick: bool):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIG_DIR, stage.config))
    cfg.work_dir = osp.join(work_root, stage.name)
    _point_to_data(cfg, data_root)
    if stage.load_from_stage is not None:
        cfg.load_from = checkpoints[stage.load_from_stage]
    # Evaluation is a separate step (so finished stages can be re-evaluated
    # without training); no validation inside training.
    cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs + 1
    if quick:
        # A smoke run: a handful of images, same code paths.
        cfg.train_dataloader.dataset.indices = 8
        cfg.val_dataloader.dataset.indices = 8
        cfg.test_dataloader.dataset.indices = 8
        cfg.train_dataloader.num_workers = 0
        cfg.val_dataloader.num_workers = 0
        cfg.test_dataloader.num_workers = 0
        cfg.train_dataloader.persistent_workers = False
        cfg.val_dataloader.persistent_workers = False
        cfg.test_dataloader.persistent_workers = False
        cfg.default_hooks.logger.interval = 1
    return cfg


def _train(cfg) -> None:
    from mmengine.runner import Runner
    Runner.from_cfg(cfg).train()


def _evaluate(cfg, checkpoint: str) -> Dict[str, float]:
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.custom_hooks = []  # classifier-only training hook: not for testing
    runner = Runner.from_cfg(cfg)
    return {key: float(value) for key, value in runner.test().items()}


def _metric(metrics: Dict[str, float], iou_type: str, name: str) -> float:
    return metrics.get(f'lvis/{iou_type}_{name}', float('nan'))


def format_results_table(results: Dict[str, dict],
                         bin_edges: Sequence[int]) -> str:
    """Markdown table: one row per method, bbox and segm AP columns."""
    num_bins = len(bin_edges) + 1
    names = list(TABLE_KEYS) + [f'AP{i}' for i in range(1, num_bins + 1)]
    header = ['method'] + [f'{iou} {name}' for iou in ('bbox', 'segm')
                           for name in names]
    lines = ['| ' + ' | '.join(header) + ' |',
             '|---|' + '---:|' * (len(header) - 1)]
    for result in results.values():
        cells = [result['title']]
        for iou_type in ('bbox', 'segm'):
            for name in names:
                value = _metric(result['metrics'], iou_type, name)
                cells.append('n/a' if value < 0 else f'{100 * value:.1f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_demo(work_root: str = 'work_dirs/demo',
             data_root: str = 'data/longtail_tiny',
             force: Sequence[str] = (),
             quick: bool = False,
             seed: int = 0,
             stages: Sequence[DemoStage] = STAGES) -> dict:
    """Run the demo end to end and write its table and plots.

    Args:
        work_root: where checkpoints, logs, the table and plots go.
        data_root: where the tiny long-tail set is (generated if missing).
        force: what to redo even if present: ``'data'``, stage names, or
            ``'all'``.
        quick: a smoke run on 8 images (tests); numbers meaningless.
        seed: dataset seed.

    Returns:
        dict: ``results`` (per stage: title, metrics, seconds, checkpoint),
        ``table`` (markdown), ``files`` (written paths), ``bin_edges``.
    """
    import torch

    from mmdet_bags.analysis.plots import (bin_labels, classifier_class_norms,
                                           plot_ap_per_bin,
                                           plot_classifier_norms)
    from mmdet_bags.datasets import generate_longtail_lvis

    force = set(force)
    redo_all = 'all' in force
    os.makedirs(work_root, exist_ok=True)
    started = time.time()
    print(f'[demo] dataset: {data_root} (tiny long-tail preset, seed {seed})',
          flush=True)
    data = generate_longtail_lvis(data_root, preset='tiny', seed=seed,
                                  force=redo_all or 'data' in force)
    bin_edges = tuple(data['bin_edges'])
    instance_counts = list(data['instance_counts'])

    results: Dict[str, dict] = {}
    checkpoints: Dict[str, str] = {}
    for stage in stages:
        cfg = _build_cfg(stage, work_root, data_root, checkpoints, quick)
        checkpoint = _final_checkpoint(cfg.work_dir, cfg.train_cfg.max_epochs)
        metrics_file = osp.join(cfg.work_dir, 'metrics.json')
        redo = redo_all or stage.name in force or (
            stage.load_from_stage is not None
            and results[stage.load_from_stage]['retrained'])
        stage_started = time.time()
        retrained = False
        if redo or not osp.isfile(checkpoint):
            print(f'[demo] training {stage.title}: configs/demo/'
                  f'{stage.config}', flush=True)
            _train(cfg)
            retrained = True
        else:
            print(f'[demo] reusing {checkpoint}', flush=True)
        if retrained or not osp.isfile(metrics_file):
            print(f'[demo] evaluating {stage.title}', flush=True)
            metrics = _evaluate(cfg, checkpoint)
            with open(metrics_file, 'w') as file:
                json.dump(metrics, file, indent=1)
        else:
            with open(metrics_file) as file:
                metrics = json.load(file)
        checkpoints[stage.name] = checkpoint
        results[stage.name] = dict(
            title=stage.title, config=f'configs/demo/{stage.config}',
            checkpoint=checkpoint, metrics=metrics, retrained=retrained,
            seconds=round(time.time() - stage_started, 1))

    table = format_results_table(results, bin_edges)
    files = dict(
        table_md=osp.join(work_root, 'results.md'),
        table_json=osp.join(work_root, 'results.json'),
        norms_png=osp.join(work_root, 'classifier_norms.png'),
        bbox_bins_png=osp.join(work_root, 'ap_per_bin_bbox.png'),
        segm_bins_png=osp.join(work_root, 'ap_per_bin_segm.png'))
    with open(files['table_md'], 'w') as file:
        file.write(table + '\n')
    with open(files['table_json'], 'w') as file:
        json.dump(dict(bin_edges=list(bin_edges), quick=quick,
                       instance_counts=instance_counts, results=results,
                       seconds=round(time.time() - started, 1)), file,
                  indent=1)

    norms = {}
    for name, result in results.items():
        state = torch.load(result['checkpoint'], map_location='cpu')
        norms[result['title']] = classifier_class_norms(
            state['state_dict'], len(instance_counts))
    plot_classifier_norms(norms, instance_counts, files['norms_png'],
                          title='Classifier weight norm per class '
                          '(classes sorted by training instances)')
    labels = bin_labels(bin_edges)
    for iou_type in ('bbox', 'segm'):
        plot_ap_per_bin(
            {result['title']: [
                _metric(result['metrics'], iou_type, f'AP{i}')
                for i in range(1, len(labels) + 1)
            ] for result in results.values()}, labels,
            files[f'{iou_type}_bins_png'],
            title=f'{iou_type} AP per training-instance bin')
    print('\n' + table, flush=True)
    print(f'[demo] done in {time.time() - started:.0f} s; table, plots and '
          f'checkpoints in {work_root}', flush=True)
    return dict(results=results, table=table, files=files,
                bin_edges=bin_edges)
