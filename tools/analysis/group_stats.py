"""Show the BAGS groups of a dataset and plot classes per group.

Examples:
    python tools/analysis/group_stats.py lvis_v1
    python tools/analysis/group_stats.py data/my_train.json \
        --bin-edges 5 50 500 --out work_dirs/groups.png --json groups.json
"""
import argparse
import json
import sys

from mmdet_bags.analysis import (format_group_table, load_category_table,
                                 plot_group_histogram, summarize_groups)
from mmdet_bags.grouping import DEFAULT_BIN_EDGES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'source',
        help="built-in table ('lvis_v1', 'lvis_v0.5') or a COCO/LVIS-format "
        'training annotation file')
    parser.add_argument(
        '--bin-edges', type=int, nargs='+', default=list(DEFAULT_BIN_EDGES),
        help='instance-count bin edges (default: %(default)s)')
    parser.add_argument('--out', help='write a PNG histogram here')
    parser.add_argument('--json', help='write the layout and table as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        table = load_category_table(args.source)
        layout = table.layout(args.bin_edges)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    rows = summarize_groups(layout, table.frequencies)
    print(f'source: {table.source}')
    print(format_group_table(layout, rows))
    if args.out:
        plot_group_histogram(layout, args.out, table.frequencies,
                             title=f'BAGS groups of {args.source}')
        print(f'histogram written to {args.out}')
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(dict(layout=layout.to_dict(), groups=rows), file,
                      indent=1)
        print(f'layout written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
