"""Long-tail benchmark on CPU: softmax, softmax + repeat-factor sampling,
Seesaw, BAGS decoupled (from each baseline) and BAGS end-to-end, same
backbone, schedule and seed, on the generated "small" long-tail set.

Resumable: a method whose checkpoint and metrics exist is not redone.
    python tools/benchmark_longtail.py                 # full run (< 2 h, 2 cores)
    python tools/benchmark_longtail.py --quick         # smoke run
    python tools/benchmark_longtail.py --force seesaw  # redo one method
"""
import argparse
import sys

from mmdet_bags.analysis.longtail_benchmark import STAGES, run_benchmark


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/benchmark_longtail')
    parser.add_argument('--data-root', default='data/longtail_small')
    parser.add_argument(
        '--force', nargs='+', default=[],
        choices=['all', 'data'] + [stage.name for stage in STAGES],
        help='redo these steps even if their outputs exist')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 8 images, 4 iterations per method')
    parser.add_argument('--seed', type=int, default=0,
                        help='dataset seed (default: %(default)s)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_benchmark(args.work_dir, args.data_root, args.force, args.quick,
                  args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
