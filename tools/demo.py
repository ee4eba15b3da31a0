"""Baseline vs BAGS on a generated long-tail set, on CPU (`make demo`).

Generates (or reuses) the tiny long-tail LVIS-format set, trains a softmax
Mask R-CNN baseline, BAGS decoupled from it (the paper's recipe) and BAGS
end-to-end, evaluates all three with the LVIS metric and per-bin AP, and
writes a table and plots to work_dirs/demo/. Re-running reuses what exists.
"""
import argparse
import sys

from mmdet_bags.analysis.demo import STAGES, run_demo


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/longtail_tiny')
    parser.add_argument(
        '--force', nargs='+', default=[],
        choices=['all', 'data'] + [stage.name for stage in STAGES],
        help='redo these steps even if their outputs exist')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run on 8 images (numbers meaningless)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_demo(args.work_dir, args.data_root, args.force, args.quick, args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
