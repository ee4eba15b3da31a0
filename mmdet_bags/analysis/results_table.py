"""Collect LVIS metrics of several runs into one comparison table.

A run is a work dir (or a file) holding its test/validation metrics in one of
the forms MMEngine and our tools write:

* ``metrics.json`` (written by the demo and the benchmark): ``{"lvis/bbox_AP":
  ...}``;
* a benchmark run record (``docs/benchmark/runs*/seed<s>/<method>.json``,
  see :mod:`mmdet_bags.analysis.seeds`): its ``metrics``;
* MMEngine's visualisation log ``<timestamp>/vis_data/scalars.json`` or the
  ``<timestamp>.json`` log of ``mim test`` / ``tools/test.py``: one JSON
  object per line, the last one holding ``lvis/...`` keys is used.
"""
import csv
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

COLUMNS = ('AP', 'APr', 'APc', 'APf')


def _last_metrics_line(path: str) -> Dict[str, float]:
    found: Dict[str, float] = {}
    with open(path) as file:
        for line in file:
            line = line.strip()
            if not line.startswith('{'):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            metrics = {key: value for key, value in entry.items()
                       if key.startswith('lvis/') or key.startswith('coco/')}
            if metrics:
                found = metrics
    return found


def _run_record_metrics(path: str) -> Dict[str, float]:
    """The metrics of a benchmark run record (``docs/benchmark/runs*/seed<s>/
    <method>.json``: one JSON object with a ``metrics`` dict), else {}."""
    try:
        with open(path) as file:
            record = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    metrics = record.get('metrics') if isinstance(record, dict) else None
    return dict(metrics) if isinstance(metrics, dict) else {}


def load_run_metrics(path: str) -> Dict[str, float]:
    """Metrics of one run: a work dir, a ``metrics.json`` or a JSON log.

    Raises:
        FileNotFoundError: nothing with metrics at ``path``.
    """
    if osp.isfile(path):
        if path.endswith('metrics.json'):
            with open(path) as file:
                return json.load(file)
        recorded = _run_record_metrics(path)
        if recorded:
            return recorded
        metrics = _last_metrics_line(path)
        if metrics:
            return metrics
        raise FileNotFoundError(f'{path} holds no lvis/ or coco/ metrics')
    candidates = [osp.join(path, 'metrics.json')] + sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
        glob.glob(osp.join(path, '*', '*.json')), key=osp.getmtime,
        reverse=True)
    for candidate in candidates:
        if osp.isfile(candidate):
            try:
                return load_run_metrics(candidate)
            except FileNotFoundError:
                continue
    raise FileNotFoundError(f'no metrics found in {path!r} (looked for '
                            'metrics.json and MMEngine JSON logs)')


def _num_bins(metrics: Dict[str, float]) -> int:
    """How many AP-per-bin metrics ``{iou}_AP1``, ``{iou}_AP2``, ... a run
    has: the longest run of consecutive numbers from 1 (so ``AP50`` and
    ``AP75``, the IoU thresholds, are not taken for bins)."""
    numbers = {int(key.rsplit('_AP', 1)[1]) for key in metrics
               if key.rsplit('_AP', 1)[-1].isdigit()}
    count = 0
    while count + 1 in numbers:
        count += 1
    return count


def comparison_rows(runs: Dict[str, Dict[str, float]],
                    iou_types: Sequence[str] = ('bbox', 'segm'),
                    num_bins: Optional[int] = None) -> List[Dict[str, str]]:
    """One row per run: ``run`` plus ``{iou} {metric}`` columns in percent
    (empty where the run has no such metric)."""
    if num_bins is None:
        num_bins = max((_num_bins(metrics) for metrics in runs.values()),
                       default=0)
    names = list(COLUMNS) + [f'AP{i}' for i in range(1, num_bins + 1)]
    rows = []
    for run, metrics in runs.items():
        row = {'run': run}
        for iou_type in iou_types:
            for name in names:
                value = metrics.get(f'lvis/{iou_type}_{name}')
                row[f'{iou_type} {name}'] = (
                    '' if value is None else
                    'n/a' if value < 0 else f'{100 * value:.1f}')
        rows.append(row)
    return rows


def format_markdown(rows: List[Dict[str, str]]) -> str:
    header = list(rows[0])
    lines = ['| ' + ' | '.join(header) + ' |',
             '|---|' + '---:|' * (len(header) - 1)]
    lines += ['| ' + ' | '.join(row[key] for key in header) + ' |'
              for row in rows]
    return '\n'.join(lines)


def write_csv(rows: List[Dict[str, str]], path: str) -> None:
    with open(path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot_comparison(rows: List[Dict[str, str]], path: str,
                    iou_type: str = 'bbox') -> None:
    """Grouped bars of AP, APr, APc, APf per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    width = 0.8 / len(rows)
    figure, axes = plt.subplots(figsize=(4 + 1.5 * len(COLUMNS), 4))
    for index, row in enumerate(rows):
        values = [float(row[f'{iou_type} {name}'] or 0)
                  if row[f'{iou_type} {name}'] not in ('', 'n/a') else 0.0
                  for name in COLUMNS]
        positions = [c + (index - (len(rows) - 1) / 2) * width
                     for c in range(len(COLUMNS))]
        axes.bar(positions, values, width=width, label=row['run'])
    axes.set_xticks(range(len(COLUMNS)))
    axes.set_xticklabels(COLUMNS)
    axes.set_ylabel(f'{iou_type} AP (%)')
    # Beside the axes: inside, a legend of many runs hides bars.
    axes.legend(fontsize='small', loc='upper left', bbox_to_anchor=(1, 1))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
