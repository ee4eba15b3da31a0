"""Speed of GroupSoftmaxLoss against MMDetection's losses and the original
BAGS design, at LVIS scale. Used by ``tools/analysis/benchmark_loss.py``.

Every contender is timed in the same process on the same inputs: a few
warm-up calls, then the median of repeated forward+backward (or activation)
calls.
"""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmdet_bags.grouping import GroupLayout, build_group_layout


class OriginalDesignGroupSoftmax:
    """A straightforward re-implementation of the original BAGS code's design.

    Same maths as :class:`~mmdet_bags.models.losses.GroupSoftmaxLoss`, built
    the way the official mmdetection-v1 code is structured: labels go to the
    host, targets are built with numpy, "others" are sampled with
    ``numpy.random.choice`` per group, and each group's cross-entropy is a
    separate call on the selected rows. Benchmark baseline only.
    """

    def __init__(self, layout: GroupLayout, others_sample_ratio: float = 8.0):
        self.layout = layout
        self.ratio = others_sample_ratio
        self.group_of_label = layout.group_of_label.numpy()
        self.column_of_label = layout.column_of_label.numpy()
        self.columns = [layout.group_columns(k)
                        for k in range(layout.num_groups)]
        self.starts = [int(c[0]) for c in self.columns]

    def __call__(self, cls_score: Tensor, labels: Tensor) -> Tensor:
        labels_host = labels.cpu().numpy()  # host synchronisation
        label_groups = self.group_of_label[labels_host]
        total = cls_score.new_zeros(())
        for group, columns in enumerate(self.columns):
            in_group = label_groups == group
            local = np.where(
                in_group,
                self.column_of_label[labels_host] - self.starts[group], 0)
            if group == 0:
                rows = np.arange(len(labels_host))
            else:
                positives = np.flatnonzero(in_group)
                if positives.size == 0:
                    continue
                others = np.flatnonzero(~in_group)
                num_drawn = min(int(self.ratio * positives.size),
                                others.size)
                drawn = np.random.choice(others, num_drawn, replace=False)
                rows = np.concatenate([positives, drawn])
            rows_t = torch.from_numpy(rows).to(cls_score.device)
            targets = torch.from_numpy(local[rows]).to(cls_score.device)
            group_logits = cls_score[rows_t][:, columns[0]:columns[-1] + 1]
            total = total + F.cross_entropy(group_logits.float(), targets)
        return total


def realistic_labels(layout: GroupLayout, num_rois: int,
                     positive_fraction: float = 0.25,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """RoI labels as MMDetection's sampler produces them: 25% foreground
    with classes drawn in proportion to their training instances."""
    counts = torch.tensor(layout.instance_counts, dtype=torch.float64)
    weights = counts.clamp(min=1)
    labels = torch.multinomial(weights, num_rois, replacement=True,
                               generator=generator)
    background = torch.rand(num_rois, generator=generator) >= \
        positive_fraction
    return labels.masked_fill(background, layout.num_classes)


def median_seconds(functions: Dict[str, Callable[[], object]], warmup: int,
                   repeats: int) -> Dict[str, float]:
    """Median wall time of each function, timed round-robin so that any
    drift of the machine (other load, frequency) affects all alike."""
    for _ in range(warmup):
        for function in functions.values():
            function()
    times: Dict[str, List[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _forward_backward(loss_fn: Callable[[Tensor], Tensor],
                      logits: Tensor) -> Callable[[], None]:

    def step():
        leaf = logits.detach().requires_grad_(True)
        loss = loss_fn(leaf)
        if isinstance(loss, dict):
            loss = sum(v for k, v in loss.items() if 'loss' in k)
        loss.backward()
    return step


def benchmark_losses(num_rois_list: Sequence[int] = (1024, 8192),
                     groups='lvis_v1', warmup: int = 3, repeats: int = 15,
                     seed: int = 0) -> List[Dict[str, object]]:
    """Time every contender; one row per (num_rois, contender).

    Returns:
        list[dict]: ``num_rois``, ``what`` ('loss' or 'activation'),
        ``name``, ``seconds`` (median), ``ratio`` (to CrossEntropyLoss for
        losses, to softmax for activations).
    """
    from mmdet.models.losses import CrossEntropyLoss, SeesawLoss

    from mmdet_bags.models.losses import GroupSoftmaxLoss

    layout = build_group_layout(groups)
    num_classes = layout.num_classes
    bags = GroupSoftmaxLoss(num_classes=num_classes, groups=layout)
    cross_entropy = CrossEntropyLoss(use_sigmoid=False)
    seesaw = SeesawLoss(num_classes=num_classes)
    original = OriginalDesignGroupSoftmax(layout)
    rows: List[Dict[str, object]] = []
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    np.random.seed(seed)
    for num_rois in num_rois_list:
        labels = realistic_labels(layout, num_rois, generator=generator)
        weights = torch.ones(num_rois)

        def logits_of(width):
            return torch.randn(num_rois, width, generator=generator)

        ce_logits = logits_of(num_classes + 1)
        bags_logits = logits_of(layout.num_logits)
        seesaw_logits = logits_of(num_classes + 2)
        contenders = [
            ('CrossEntropyLoss (softmax, C+1)', ce_logits,
             lambda x: cross_entropy(x, labels, weights)),
            ('GroupSoftmaxLoss (ours)', bags_logits,
             lambda x: bags(x, labels, weights)),
            ('SeesawLoss', seesaw_logits,
             lambda x: seesaw(x, labels, weights)),
            ('original BAGS design (host numpy, loop)', bags_logits,
             lambda x: original(x, labels)),
        ]
        times = median_seconds(
            {name: _forward_backward(loss_fn, logits)
             for name, logits, loss_fn in contenders}, warmup, repeats)
        baseline = times[contenders[0][0]]
        rows += [dict(num_rois=num_rois, what='loss', name=name,
                      seconds=seconds, ratio=seconds / baseline)
                 for name, seconds in times.items()]

        with torch.no_grad():
            times = median_seconds(
                {
                    'softmax (C+1)':
                    lambda: F.softmax(ce_logits, dim=-1),
                    'GroupSoftmaxLoss.get_activation (ours)':
                    lambda: bags.get_activation(bags_logits),
                    'SeesawLoss.get_activation':
                    lambda: seesaw.get_activation(seesaw_logits),
                }, warmup, repeats)
        baseline = times['softmax (C+1)']
        rows += [dict(num_rois=num_rois, what='activation', name=name,
                      seconds=seconds, ratio=seconds / baseline)
                 for name, seconds in times.items()]
    return rows


def format_benchmark(rows: List[Dict[str, object]]) -> str:
    """Markdown table of :func:`benchmark_losses` rows."""
    lines = ['| RoIs | measured | contender | median ms | ratio |',
             '|---:|---|---|---:|---:|']
    for row in rows:
        lines.append(f'| {row["num_rois"]} | {row["what"]} | {row["name"]} | '
                     f'{1000 * row["seconds"]:.2f} | {row["ratio"]:.2f}x |')
    return '\n'.join(lines)
