"""Several training seeds per method: one run record per (method, seed),
kept in the repository, and their aggregation into mean ± std.

A benchmark seed takes hours on a CPU, longer than one working session, and
work dirs (checkpoints) do not outlive a session. So every finished
(method, training seed) writes a small JSON record (metrics, config,
fingerprint of the built config, seed, git commit, seconds, machine) to
``<runs_dir>/seed<seed>/<method>.json``; a later invocation reuses every
record whose config fingerprint and data set still match and trains only
what is missing. The report aggregates the records.

Aggregated metrics: one seed keeps the plain float of a single run
(``metrics[key] = 0.351``); several seeds give
``metrics[key] = {"mean": ..., "std": ..., "values": [...]}`` with the sample
standard deviation (``ddof=1``) and ``values`` in the order of the result's
``seeds``.
"""
import hashlib
import json
import math
import os
import os.path as osp
import platform
import subprocess
import time
from typing import Dict, Optional, Sequence, Union

Metric = Union[float, Dict[str, object]]


def record_path(runs_dir: str, seed: int, name: str) -> str:
    """``<runs_dir>/seed<seed>/<name>.json``."""
    return osp.join(runs_dir, f'seed{seed}', f'{name}.json')


#: The config keys that MMEngine's ``Runner.from_cfg`` (and MMDetection's
#: imports) read, less those naming the machine or the run (``work_dir``,
#: ``load_from``, ``resume``, ``launcher``, ``visualizer``): the recipe.
#: Helper variables of the ``_base_`` files (``bench_*``, ``paper_*``, ...)
#: are left out, so editing an unused one does not invalidate records.
RECIPE_KEYS = ('model', 'train_dataloader', 'val_dataloader',
               'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
               'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks',
               'custom_hooks', 'data_preprocessor', 'env_cfg',
               'randomness', 'default_scope', 'custom_imports',
               'model_wrapper_cfg')


def config_fingerprint(cfg, data_root: str) -> str:
    """SHA-1 of the built config's :data:`RECIPE_KEYS`, with the data
    location replaced by a placeholder: equal fingerprints mean the same
    training and test recipe on any machine."""
    content = {key: cfg.get(key) for key in RECIPE_KEYS}
    content = json.loads(json.dumps(content, default=str))
    text = json.dumps(content, sort_keys=True, default=str)
    text = text.replace(osp.abspath(data_root).rstrip('/'), '<data>')
    text = text.replace(data_root.rstrip('/'), '<data>')
    return hashlib.sha1(text.encode()).hexdigest()


def git_commit(repo_dir: Optional[str] = None) -> Optional[str]:
    """The checked-out commit (with ``+dirty`` when tracked files differ),
    or None outside a git checkout."""
    repo_dir = repo_dir or osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__))))
    try:
        commit = subprocess.run(
            ['git', 'rev-parse', 'HEAD'], cwd=repo_dir, capture_output=True,
            text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            cwd=repo_dir, capture_output=True, text=True,
            check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ('+dirty' if dirty else '')


def machine_description() -> str:
    """``'2 CPU cores, x86_64, torch 2.x'``: where a record was measured."""
    import torch
    device = (f'GPU {torch.cuda.get_device_name(0)}'
              if torch.cuda.is_available() else 'no GPU')
    return (f'{os.cpu_count()} CPU cores, {platform.machine()}, {device}, '
            f'torch {torch.__version__}')


def write_record(runs_dir: str, seed: int, name: str, record: dict) -> str:
    """Write one run record atomically (a killed process leaves none or a
    complete one); returns its path."""
    path = record_path(runs_dir, seed, name)
    os.makedirs(osp.dirname(path), exist_ok=True)
    partial = path + '.partial'
    with open(partial, 'w') as file:
        json.dump(record, file, indent=1, sort_keys=True)
        file.write('\n')
    os.replace(partial, path)
    return path


#: Values a record written before a field existed is taken to have.
_RECORD_DEFAULTS = dict(backbone='r18')


def load_record(runs_dir: str, seed: int, name: str, expect: dict,
                fingerprint: Optional[str] = None) -> Optional[dict]:
    """The record of (``name``, ``seed``) if it exists and still holds.

    Args:
        expect: fields the record must have with these values, the identity
            of the benchmark (e.g. ``data``, ``quick``, ``backbone``).
        fingerprint: the config's :func:`config_fingerprint` now.

    Returns:
        dict | None: None when there is no record, or when its config
        fingerprint differs from ``fingerprint`` (the recipe changed since:
        the run must be redone; a line says so).

    Raises:
        ValueError: the record belongs to another benchmark (``expect``
            differs): each needs its own runs dir.
    """
    path = record_path(runs_dir, seed, name)
    if not osp.isfile(path):
        return None
    with open(path) as file:
        record = json.load(file)
    for key, value in expect.items():
        found = record.get(key, _RECORD_DEFAULTS.get(key))
        if found != value:
            raise ValueError(
                f'{path} was made with {key}={found!r}, this run has '
                f'{key}={value!r}; give each data set and backbone its own '
                'runs dir (--runs-dir)')
    if fingerprint is not None and record.get('fingerprint') != fingerprint:
        print(f'{path}: the config changed since this record (commit '
              f'{record.get("git_commit")}); redoing {name}, seed {seed}',
              flush=True)
        return None
    return record


def baseline_reference(baseline: dict) -> Dict[str, object]:
    """What a decoupled run's record keeps of its baseline's record, to
    tell later whether the baseline recorded beside it is still the one
    it was trained from."""
    return {key: baseline.get(key) for key in ('finished', 'fingerprint',
                                               'git_commit')}


def from_baseline(record: dict, baseline: Optional[dict]) -> bool:
    """Whether a decoupled run's ``record`` was trained from the run that
    ``baseline`` (its baseline's record now) records.

    A record names its baseline (:func:`baseline_reference`); one written
    before that field existed is taken to come from it unless it finished
    before the baseline did (the baseline was trained again since). With
    no baseline record the link cannot hold.
    """
    if baseline is None:
        return False
    reference = record.get('baseline')
    if reference is not None:
        return reference == baseline_reference(baseline)
    return str(record.get('finished', '')) >= str(baseline.get('finished',
                                                              ''))


def summarize(values: Sequence[float]) -> Dict[str, object]:
    """``{"mean", "std", "values"}`` of one metric over seeds.

    Negative values mean "not measurable" (LVIS reports -1 for an empty
    area range or bin) and are left out of mean and std; if all are
    negative the mean is -1. ``std`` is the sample standard deviation, None
    for fewer than two measurable values.
    """
    values = [float(value) for value in values]
    valid = [value for value in values if value >= 0]
    if not valid:
        return dict(mean=-1.0, std=None, values=values)
    mean = sum(valid) / len(valid)
    std = None
    if len(valid) > 1:
        std = math.sqrt(sum((value - mean) ** 2 for value in valid) /
                        (len(valid) - 1))
    return dict(mean=mean, std=std, values=values)


def record_checkpoint(record: dict) -> Optional[str]:
    """The checkpoint a record names, if it is still the one of that run:
    it exists and was not written after the record (a stage trained again
    later leaves its own checkpoint at the same path)."""
    path = record.get('checkpoint')
    if not path or not osp.isfile(path):
        return None
    try:
        finished_at = time.mktime(
            time.strptime(str(record['finished']), '%Y-%m-%d %H:%M:%S'))
    except (KeyError, ValueError):
        return path  # a record without a readable time: taken as it is
    return None if osp.getmtime(path) > finished_at + 1 else path


def aggregate_runs(runs: Dict[str, Dict[int, dict]],
                   seeds: Sequence[int]) -> Dict[str, dict]:
    """One result per method from its per-seed results.

    Args:
        runs: per method name, per seed: a result with ``title``,
            ``config``, ``metrics`` (floats) and optionally ``checkpoint``
            and ``seconds``.
        seeds: the seeds asked for, in report order; a method's seeds are
            those of ``seeds`` it has a result for.

    Returns:
        dict: per method: ``title``, ``config``, ``seeds`` (list),
        ``metrics`` (floats for one seed, else ``{"mean", "std",
        "values"}`` per key, keys every seed has), ``seconds`` (per seed),
        ``checkpoint`` (the first seed's that exists, else None).
    """
    results = {}
    for name, by_seed in runs.items():
        present = [seed for seed in seeds if seed in by_seed]
        if not present:
            continue
        first = by_seed[present[0]]
        keys = [key for key in first['metrics']
                if all(key in by_seed[s]['metrics'] for s in present)]
        if len(present) == 1:
            metrics = dict(first['metrics'])
        else:
            metrics = {key: summarize([by_seed[s]['metrics'][key]
                                       for s in present]) for key in keys}
        checkpoint = next((path for path in map(
            record_checkpoint, (by_seed[s] for s in present))
                           if path is not None), None)
        results[name] = dict(
            title=first['title'], config=first['config'], seeds=present,
            metrics=metrics, checkpoint=checkpoint,
            seconds=[by_seed[s].get('seconds') for s in present])
    return results


def metric_mean(value: Metric) -> float:
    """The value of a single run or the mean over seeds."""
    return float(value['mean']) if isinstance(value, dict) else float(value)


def metric_std(value: Metric) -> Optional[float]:
    """The std over seeds, None for a single run."""
    return value.get('std') if isinstance(value, dict) else None


def format_metric(value: Optional[Metric], scale: float = 100.0) -> str:
    """``'35.1'`` (one run), ``'35.1 ± 0.4'`` (seeds), ``'n/a'`` (missing or
    not measurable)."""
    if value is None or metric_mean(value) < 0:
        return 'n/a'
    text = f'{scale * metric_mean(value):.1f}'
    std = metric_std(value)
    return text if std is None else f'{text} ± {scale * std:.1f}'


def format_seed_values(results: Dict[str, dict],
                       keys: Sequence[str]) -> str:
    """Markdown table of each seed's value of ``keys`` (e.g.
    ``'lvis/bbox_AP'``) per method: ``35.1 / 34.6 / 35.9`` in the order of
    the method's ``seeds``."""
    header = ['method', 'seeds'] + [key.split('/')[-1] for key in keys]
    lines = ['| ' + ' | '.join(header) + ' |',
             '|---|---|' + '---:|' * len(keys)]
    for result in results.values():
        cells = [result['title'],
                 ', '.join(str(seed) for seed in result['seeds'])]
        for key in keys:
            value = result['metrics'].get(key)
            if value is None:
                cells.append('n/a')
                continue
            values = value['values'] if isinstance(value, dict) else [value]
            cells.append(' / '.join(
                'n/a' if v < 0 else f'{100 * v:.1f}' for v in values))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

