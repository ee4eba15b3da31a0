"""Long-tail benchmark on CPU: softmax, softmax + repeat-factor sampling,
Seesaw, BAGS decoupled (from each baseline) and BAGS end-to-end (plus opt-in
BAGS variants), same backbone and schedule, several training seeds, on the
generated "small" long-tail set.

Resumable per method and training seed: each finished run is recorded in
docs/benchmark/runs/seed<s>/<method>.json and not redone.
    python tools/benchmark_longtail.py --seeds 0 1 2     # full run
    python tools/benchmark_longtail.py --quick --seeds 0 1   # smoke run
    python tools/benchmark_longtail.py --seeds 0 \\
        --methods bags_decoupled_normed      # screen a variant on one seed
    python tools/benchmark_longtail.py --seeds 0 1 2 --report-only \\
        --report-dir docs/benchmark          # table and plots from records
    python tools/benchmark_longtail.py --seed 1 --num-classes 100 \\
        --data-root data/longtail_small_s1_c100   # a second generated set
    python tools/benchmark_longtail.py --backbone r50 --seeds 0 \\
        --methods softmax seesaw bags_decoupled   # another backbone
"""
import argparse
import sys

from mmdet_bags.analysis.longtail_benchmark import (ALL_STAGES,
                                                    DEFAULT_METHODS,
                                                    run_benchmark)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [stage.name for stage in ALL_STAGES]
    parser.add_argument('--work-dir', default='work_dirs/benchmark_longtail')
    parser.add_argument('--data-root', default='data/longtail_small')
    parser.add_argument(
        '--methods', nargs='+', default=list(DEFAULT_METHODS), choices=names,
        help='methods to run (baselines of decoupled ones are added); '
        'default: the six main methods')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='training seeds (default: %(default)s)')
    parser.add_argument(
        '--force', nargs='+', default=[], choices=['all', 'data'] + names,
        help='redo these even if recorded')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 8 images, 4 iterations per method')
    parser.add_argument('--seed', type=int, default=0,
                        help='dataset seed (default: %(default)s)')
    parser.add_argument('--num-classes', type=int, default=None,
                        help='generate the set with this many classes '
                        '(default: the preset\'s 120)')
    parser.add_argument('--runs-dir', default=None,
                        help='run records (default: docs/benchmark/runs for '
                        'the benchmark set)')
    parser.add_argument('--report-dir', default=None,
                        help='table and plots (default: the work dir)')
    parser.add_argument('--deterministic', action='store_true',
                        help="MMEngine randomness.deterministic=True")
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing, report the recorded runs')
    parser.add_argument('--backbone', default='r18', choices=['r18', 'r50'],
                        help='ResNet of every method (default: %(default)s; '
                        'r50 records go to docs/benchmark/runs-r50)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    overrides = {} if args.num_classes is None else dict(
        num_classes=args.num_classes)
    run_benchmark(args.work_dir, args.data_root, args.force, args.quick,
                  args.seed, seeds=args.seeds, methods=args.methods,
                  runs_dir=args.runs_dir, report_dir=args.report_dir,
                  data_overrides=overrides, deterministic=args.deterministic,
                  report_only=args.report_only, backbone=args.backbone)
    return 0


if __name__ == '__main__':
    sys.exit(main())
