"""Speed of GroupSoftmaxLoss against MMDetection's losses, at LVIS scale.
Used by ``tools/analysis/benchmark_loss.py``.

Every contender is timed in the same process on the same inputs: a few
warm-up calls, then the median of repeated forward+backward (or activation)
calls, timed round-robin so that drift of a shared machine affects all
alike. On CUDA, calls are timed with CUDA events and the kernels one call
launches are counted with ``torch.profiler``; on the CPU the count is of
the tensor operations dispatched (what would be kernels on a GPU).

On the CPU every contender allocates its output (8192 RoIs: 40 MB), and
whether glibc serves it from memory the process already touched or from
fresh pages (about 9,600 page faults, several milliseconds) depends on the
heap's state, differently from call to call and contender to contender: in
one run softmax took 5 ms and the same call 13 ms in another.
:func:`reuse_freed_memory` makes every contender reuse freed memory.
"""
import ctypes
import ctypes.util
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

from mmdet_bags.grouping import GroupLayout, build_group_layout

#: A contender built from the layout: ``factory(layout)(cls_score, labels)``
#: returns the loss.
LossFactory = Callable[[GroupLayout], Callable[[Tensor, Tensor], Tensor]]


#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def reuse_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for the next allocation: no
    block is mmap'ed (``M_MMAP_MAX`` 0) and the heap is never trimmed
    (``M_TRIM_THRESHOLD`` 2 GiB - 1), so after the warm-up calls every
    contender's output lands on pages already faulted in, and the timings
    measure the computation, not the kernel zeroing fresh pages. For the
    rest of the process.

    Returns:
        bool: whether it was applied (False where the C library is not
        glibc).
    """
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], \
        ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


class OperationRecorder(TorchDispatchMode):
    """Records the name of every tensor operation dispatched while active
    (forward and, on the CPU, backward: both run in the calling thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: List[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.operations.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def count_operations(function: Callable[[], object],
                     device: str = 'cpu') -> int:
    """Kernels launched by one call on CUDA (``torch.profiler``), tensor
    operations dispatched by one call on the CPU."""
    if torch.device(device).type == 'cuda':
        from torch.profiler import ProfilerActivity, profile
        function()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as profiler:
            function()
            torch.cuda.synchronize()
        return sum(1 for event in profiler.events()
                   if event.device_type == torch.autograd.DeviceType.CUDA)
    with OperationRecorder() as recorder:
        function()
    return len(recorder.operations)


def time_call(function: Callable[[], object], device: str = 'cpu') -> float:
    """Seconds one call takes (CUDA events on a GPU)."""
    if torch.device(device).type == 'cuda':
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        function()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000
    start_time = time.perf_counter()
    function()
    return time.perf_counter() - start_time


def timed_round_robin(functions: Dict[str, Callable[[], object]],
                      warmup: int, repeats: int,
                      device: str = 'cpu') -> Dict[str, List[float]]:
    """Seconds of every call of every function, timed round-robin."""
    for _ in range(warmup):
        for function in functions.values():
            function()
    times: Dict[str, List[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            times[name].append(time_call(function, device))
    return times


def median_seconds(functions: Dict[str, Callable[[], object]], warmup: int,
                   repeats: int, device: str = 'cpu') -> Dict[str, float]:
    """Median wall time of each function, timed round-robin."""
    times = timed_round_robin(functions, warmup, repeats, device)
    return {name: statistics.median(values) for name, values in times.items()}


def realistic_labels(layout: GroupLayout, num_rois: int,
                     positive_fraction: float = 0.25,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """RoI labels as MMDetection's sampler produces them: 25% foreground
    with classes drawn in proportion to their training instances."""
    counts = torch.tensor(layout.instance_counts, dtype=torch.float64)
    labels = torch.multinomial(counts.clamp(min=1), num_rois,
                               replacement=True, generator=generator)
    background = torch.rand(num_rois, generator=generator) >= \
        positive_fraction
    return labels.masked_fill(background, layout.num_classes)


def forward_backward(loss_fn: Callable[[Tensor], object],
                     logits: Tensor) -> Callable[[], None]:
    """A call of ``loss_fn`` on fresh leaf logits, then its backward pass
    (a dict's ``loss*`` entries are summed, as MMEngine does)."""

    def step():
        leaf = logits.detach().requires_grad_(True)
        loss = loss_fn(leaf)
        if isinstance(loss, dict):
            loss = sum(v for k, v in loss.items() if 'loss' in k)
        loss.backward()
    return step


def benchmark_losses(num_rois_list: Sequence[int] = (1024, 8192),
                     groups='lvis_v1', warmup: int = 3, repeats: int = 30,
                     seed: int = 0, device: str = 'cpu',
                     extra_losses: Optional[Dict[str, LossFactory]] = None,
                     count: bool = True) -> List[Dict[str, object]]:
    """Time every contender; one row per (num_rois, contender).

    Args:
        num_rois_list: RoIs per call.
        groups: see :func:`~mmdet_bags.grouping.build_group_layout`.
        warmup, repeats (int): calls before timing, timed calls (median).
        seed (int): for the logits, labels and the sampling.
        device (str): ``'cpu'`` or ``'cuda'``.
        extra_losses (dict, optional): more loss contenders, name ->
            factory (e.g. the original BAGS design of
            ``tools/analysis/original_design.py``).
        count (bool): also count operations (kernels on CUDA) per call.

    Returns:
        list[dict]: ``num_rois``, ``what`` ('loss', 'part of the loss' or
        'activation'), ``name``, ``seconds`` (median), ``ratio`` (to
        ``CrossEntropyLoss`` for losses and their parts, to softmax for
        activations) and ``operations`` (None when not counted).
    """
    from mmdet.models.losses import CrossEntropyLoss, SeesawLoss

    from mmdet_bags.models.losses import GroupSoftmaxLoss, select_rois

    layout = build_group_layout(groups)
    num_classes = layout.num_classes
    bags = GroupSoftmaxLoss(num_classes=num_classes, groups=layout).to(device)
    cross_entropy = CrossEntropyLoss(use_sigmoid=False)
    seesaw = SeesawLoss(num_classes=num_classes).to(device)
    extra = {name: factory(layout)
             for name, factory in (extra_losses or {}).items()}
    rows: List[Dict[str, object]] = []
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for num_rois in num_rois_list:
        labels = realistic_labels(layout, num_rois,
                                  generator=generator).to(device)
        weights = torch.ones(num_rois, device=device)

        def logits_of(width):
            return torch.randn(num_rois, width,
                               generator=generator).to(device)

        ce_logits = logits_of(num_classes + 1)
        bags_logits = logits_of(layout.num_logits)
        seesaw_logits = logits_of(num_classes + 2)
        losses = {
            'CrossEntropyLoss (softmax, C+1)':
            forward_backward(lambda x: cross_entropy(x, labels, weights),
                             ce_logits),
            'GroupSoftmaxLoss (ours)':
            forward_backward(lambda x: bags(x, labels, weights),
                             bags_logits),
            'SeesawLoss':
            forward_backward(lambda x: seesaw(x, labels, weights),
                             seesaw_logits),
        }
        for name, loss_fn in extra.items():
            losses[name] = forward_backward(
                lambda x, loss_fn=loss_fn: loss_fn(x, labels), bags_logits)
        valid = weights > 0
        parts = {
            "ours: 'others' sampling (select_rois)":
            lambda: select_rois(labels, bags.group_of_label, valid,
                                bags.others_sample_ratio, layout.num_groups)
        }
        rows += _rows(num_rois, 'loss', losses, warmup, repeats, device,
                      count, parts=parts)
        with torch.no_grad():
            rows += _rows(
                num_rois, 'activation', {
                    'softmax (C+1)':
                    lambda: F.softmax(ce_logits, dim=-1),
                    'GroupSoftmaxLoss.get_activation (ours)':
                    lambda: bags.get_activation(bags_logits),
                    'SeesawLoss.get_activation':
                    lambda: seesaw.get_activation(seesaw_logits),
                }, warmup, repeats, device, count)
    return rows


def _rows(num_rois: int, what: str, functions: Dict[str, Callable],
          warmup: int, repeats: int, device: str, count: bool,
          parts: Optional[Dict[str, Callable]] = None) -> List[dict]:
    """Time ``functions`` (and ``parts``) round-robin; ratios to the
    first function."""
    every = dict(functions, **(parts or {}))
    times = median_seconds(every, warmup, repeats, device)
    baseline = times[next(iter(functions))]
    rows = []
    for name, seconds in times.items():
        operations = (count_operations(every[name], device)
                      if count else None)
        rows.append(dict(num_rois=num_rois,
                         what=what if name in functions else
                         'part of the loss',
                         name=name, seconds=seconds,
                         ratio=seconds / baseline, operations=operations))
    return rows


def format_benchmark(rows: List[Dict[str, object]],
                     device: str = 'cpu') -> str:
    """Markdown table of :func:`benchmark_losses` rows."""
    counted = 'kernels' if torch.device(device).type == 'cuda' else 'ops'
    lines = [f'| RoIs | measured | contender | median ms | ratio | '
             f'{counted} |', '|---:|---|---|---:|---:|---:|']
    for row in rows:
        operations = ('' if row.get('operations') is None else
                      str(row['operations']))
        lines.append(f'| {row["num_rois"]} | {row["what"]} | {row["name"]} | '
                     f'{1000 * row["seconds"]:.2f} | {row["ratio"]:.2f}x | '
                     f'{operations} |')
    return '\n'.join(lines)
