"""Build a COCO-LT-style long-tail training subset from a COCO-format file.

Categories get log-linear target counts by rank (from the largest
category's count, or --head-count, down to --tail-count); whole images are
selected per category from the rarest target up, in an order fixed by
--seed (the procedure is documented in mmdet_bags/datasets/coco_lt.py). The
output is NOT the published COCO-LT file; the same input, options and seed
always give the same output. Evaluate on the unchanged COCO val2017 with
PerBinCocoMetric(bin_edges=(20, 400, 8000)) (configs/coco_lt/).

Example:
    python tools/dataset_converters/build_coco_lt.py \
        data/coco/annotations/instances_train2017.json \
        data/coco/annotations/instances_train2017_coco-lt.json --seed 0
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmdet_bags.datasets import write_json
from mmdet_bags.datasets.coco_lt import build_coco_lt, format_summary


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source', help='COCO-format training annotation file')
    parser.add_argument('out', help='where to write the long-tail subset')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the image order (default: %(default)s)')
    parser.add_argument('--head-count', type=int,
                        help='target instances of the most frequent category '
                        '(default: its count in the source)')
    parser.add_argument('--tail-count', type=int, default=1,
                        help='target instances of the least frequent '
                        'category (default: %(default)s)')
    parser.add_argument('--force', action='store_true',
                        help='overwrite an existing output file')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if osp.abspath(args.source) == osp.abspath(args.out):
        print('error: the output would overwrite the source file',
              file=sys.stderr)
        return 2
    if osp.exists(args.out) and not args.force:
        print(f'error: {args.out} exists (use --force to overwrite it)',
              file=sys.stderr)
        return 2
    try:
        print(f'reading {args.source}', flush=True)
        with open(args.source) as file:
            coco = json.load(file)
        start = time.perf_counter()

        def progress(done, total):
            if done == total or done % 10 == 0:
                print(f'  categories selected: {done}/{total} '
                      f'({time.perf_counter() - start:.0f} s)', flush=True)

        result = build_coco_lt(coco, seed=args.seed,
                               head_count=args.head_count,
                               tail_count=args.tail_count, progress=progress)
    except FileNotFoundError:
        print(f'error: {args.source} not found', file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError) as error:
        print(f'error: {args.source}: {error}', file=sys.stderr)
        return 2
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_json(args.out, result)
    print(format_summary(result))
    print(f'written to {args.out} (seed {args.seed})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
