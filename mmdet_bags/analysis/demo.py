"""`make demo`: softmax baseline vs BAGS (decoupled and end-to-end) on the
generated tiny long-tail set, on CPU, through MMEngine's Runner and the demo
configs in ``configs/demo/``. Data, checkpoints and metrics that already
exist are reused unless ``force`` asks otherwise."""
from typing import Sequence

from mmdet_bags.analysis.experiments import (Stage, format_results_table,
                                             run_experiment)

STAGES = (
    Stage('baseline', 'softmax baseline',
          'demo/baseline_mask-rcnn_r18_fpn_random-4e_longtail-tiny.py'),
    Stage('bags_decoupled', 'BAGS decoupled (paper recipe, scaled)',
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
        ``table`` (markdown), ``files`` (written paths), ``bin_edges``
        (see :func:`~mmdet_bags.analysis.experiments.run_experiment`).
    """
    return run_experiment('demo', 'tiny', stages, work_root, data_root,
                          force, quick, seed)
