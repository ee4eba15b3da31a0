"""Per-class classifier weight norms of a checkpoint, classes sorted by
training instances (the BAGS paper's Figure 1): a PNG and a CSV.

Works on ordinary softmax checkpoints (e.g. MMDetection's published LVIS
Mask R-CNN), Seesaw and BAGS checkpoints.

    python tools/analysis/classifier_norms.py mask_rcnn_r50_..._lvis_v1.pth \
        --groups lvis_v1 --out work_dirs/norms.png --csv work_dirs/norms.csv
"""
import argparse
import csv
import sys

import numpy as np
import torch

import mmdet_bags  # noqa: F401  (lets torch.load read MMEngine checkpoints)
from mmdet_bags.analysis.group_stats import load_category_table
from mmdet_bags.analysis.plots import (classifier_class_norms,
                                       plot_classifier_norms)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoints', nargs='+')
    parser.add_argument('--names', nargs='+', help='legend names')
    parser.add_argument('--groups', required=True,
                        help="training counts: 'lvis_v1', 'lvis_v0.5' or a "
                        'COCO/LVIS training annotation file')
    parser.add_argument('--prefix', default='roi_head.bbox_head.',
                        help="the head's state-dict prefix (a cascade stage: "
                        "'roi_head.bbox_head.2.')")
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--csv', help='CSV to write (label, name, count, '
                        'one norm column per checkpoint)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = args.names or args.checkpoints
    try:
        table = load_category_table(args.groups)
        norms = {}
        for name, path in zip(names, args.checkpoints):
            checkpoint = torch.load(path, map_location='cpu')
            state = checkpoint.get('state_dict', checkpoint)
            norms[name] = classifier_class_norms(
                state, len(table.instance_counts), args.prefix)
    except (FileNotFoundError, KeyError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    plot_classifier_norms(norms, table.instance_counts, args.out)
    print(f'plot written to {args.out}')
    if args.csv:
        order = np.argsort(-np.asarray(table.instance_counts), kind='stable')
        with open(args.csv, 'w', newline='') as file:
            writer = csv.writer(file)
            writer.writerow(['label', 'name', 'instance_count', *norms])
            for label in order:
                writer.writerow([int(label), table.names[label],
                                 table.instance_counts[label]] +
                                [f'{values[label]:.6f}'
                                 for values in norms.values()])
        print(f'norms written to {args.csv}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
