"""Benchmark GroupSoftmaxLoss against CrossEntropyLoss, SeesawLoss and the
original BAGS design (forward+backward), and BAGS scores against softmax.

Example:
    python tools/analysis/benchmark_loss.py --rois 1024 8192 --repeats 30 \
        --threads 2 --out work_dirs/loss_benchmark.md
"""
import argparse
import json
import os.path as osp
import platform
import sys

import torch

from mmdet_bags.analysis.benchmark_loss import (benchmark_losses,
                                                format_benchmark,
                                                reuse_freed_memory)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from original_design import OriginalDesignGroupSoftmax  # noqa: E402

ORIGINAL = 'original BAGS design (host numpy, loop)'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rois', type=int, nargs='+', default=[1024, 8192],
                        help='RoIs per call (default: %(default)s)')
    parser.add_argument('--groups', default='lvis_v1',
                        help='built-in groups (default: %(default)s)')
    parser.add_argument('--repeats', type=int, default=30,
                        help='timed calls per contender, round-robin; the '
                        'median is reported (default: %(default)s)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--device', default='cpu',
                        help="'cpu' or 'cuda' (CUDA events, kernel counts)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fresh-memory', action='store_true',
                        help="leave glibc's malloc as it is (by default "
                        'freed memory is reused, so no contender pays for '
                        'page faults of fresh output memory; see '
                        'mmdet_bags/analysis/benchmark_loss.py)')
    parser.add_argument('--no-original', action='store_true',
                        help='leave out the original-design straw man')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 64 RoIs, 2 repeats, 1 warm-up')
    parser.add_argument('--out', help='also write the markdown table here')
    parser.add_argument('--json', help='write raw rows as JSON here')
    args = parser.parse_args(argv)
    if args.quick:
        args.rois, args.repeats, args.warmup = [64], 2, 1
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fresh_memory:
        memory = 'default allocator (outputs may land on fresh pages)'
    elif reuse_freed_memory():
        memory = 'freed memory reused (glibc mallopt)'
    else:
        memory = 'default allocator (not glibc: mallopt unavailable)'
    if args.device.startswith('cuda'):
        where = f'CUDA {torch.cuda.get_device_name(args.device)}'
    else:
        where = f'{platform.processor() or platform.machine()}, CPU'
    header = (f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
              f'{where}; groups {args.groups}; median of {args.repeats} '
              f'round-robin calls after {args.warmup} warm-up calls; '
              f'{memory}')
    print(header, flush=True)
    extra = {} if args.no_original else {
        ORIGINAL: lambda layout: OriginalDesignGroupSoftmax(
            layout, seed=args.seed)
    }
    rows = benchmark_losses(args.rois, args.groups, args.warmup, args.repeats,
                            seed=args.seed, device=args.device,
                            extra_losses=extra)
    table = format_benchmark(rows, args.device)
    print(table)
    if args.out:
        with open(args.out, 'w') as file:
            file.write(header + '\n\n' + table + '\n')
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(dict(setting=header, rows=rows), file, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
