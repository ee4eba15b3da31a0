"""`make demo`: softmax baseline vs BAGS (decoupled and end-to-end) on the
generated tiny long-tail set, on CPU, through MMEngine's Runner and the demo
configs in ``configs/demo/``. Data, checkpoints and metrics that already
exist are reused unless ``force`` asks otherwise."""
import os
import time
from typing import Sequence

from mmdet_bags.analysis.experiments import (Stage, format_results_table,
                                             run_stages, write_report)

STAGES = (
    Stage('baseline', 'softmax baseline',
          'demo/baseline_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'),
    Stage('bags_decoupled', 'BAGS decoupled (paper)',
          'demo/bags_mask-rcnn_r18_fpn_decoupled-2e_longtail-tiny.py',
          load_from_stage='baseline'),
    Stage('bags_end_to_end', 'BAGS end-to-end',
          'demo/bags_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'),
)

__all__ = ['STAGES', 'format_results_table', 'run_demo']


def run_demo(work_root: str = 'work_dirs/demo',
             data_root: str = 'data/longtail_tiny',
             force: Sequence[str] = (),
             quick: bool = False,
             seed: int = 0,
             stages: Sequence[Stage] = STAGES) -> dict:
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
    from mmdet_bags.datasets import generate_longtail_lvis

    force = set(force)
    os.makedirs(work_root, exist_ok=True)
    started = time.time()
    print(f'[demo] dataset: {data_root} (tiny long-tail preset, seed {seed})',
          flush=True)
    data = generate_longtail_lvis(data_root, preset='tiny', seed=seed,
                                  force='all' in force or 'data' in force)
    bin_edges = tuple(data['bin_edges'])
    results = run_stages(stages, work_root, data_root, force, quick,
                         log_prefix='[demo]')
    report = write_report(
        results, bin_edges, data['instance_counts'], work_root,
        extra=dict(quick=quick, seed=seed,
                   seconds=round(time.time() - started, 1)))
    print('\n' + report['table'], flush=True)
    print(f'[demo] done in {time.time() - started:.0f} s; table, plots and '
          f'checkpoints in {work_root}', flush=True)
    return dict(results=results, bin_edges=bin_edges, **report)
