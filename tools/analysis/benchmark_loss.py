"""Benchmark GroupSoftmaxLoss against CrossEntropyLoss, SeesawLoss and the
original BAGS design (forward+backward), and BAGS scores against softmax.

Example:
    python tools/analysis/benchmark_loss.py --rois 1024 8192 --out work_dirs/loss_benchmark.md
"""
import argparse
import json
import platform
import sys

import torch

from mmdet_bags.analysis.loss_benchmark import (benchmark_losses,
                                                format_benchmark)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rois', type=int, nargs='+', default=[1024, 8192],
                        help='RoIs per call (default: %(default)s)')
    parser.add_argument('--groups', default='lvis_v1',
                        help='built-in groups (default: %(default)s)')
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch default)')
    parser.add_argument('--out', help='also write the markdown table here')
    parser.add_argument('--json', help='write raw rows as JSON here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    header = (f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
              f'{platform.processor() or platform.machine()}, CPU; '
              f'groups {args.groups}; median of {args.repeats} after '
              f'{args.warmup} warm-up calls')
    print(header, flush=True)
    rows = benchmark_losses(args.rois, args.groups, args.warmup, args.repeats)
    table = format_benchmark(rows)
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
