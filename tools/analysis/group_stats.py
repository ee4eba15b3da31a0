"""Show the BAGS groups of a dataset and plot classes per group.

The edges are checked: a bin no class falls in (its group is dropped) or a
group with fewer than 5 % of the classes (at least 2) is reported, and edges
giving groups of similar size are suggested (sort the classes by count, cut
the list into as many equal parts as there are bins, each edge is the count
of a part's first class; one bin fewer if a group is still too small). Exit
status 0 either way; the suggestion is printed with the config line to use.

Examples:
    python tools/analysis/group_stats.py lvis_v1
    python tools/analysis/group_stats.py data/my_train.json \
        --bin-edges 5 50 500 --out work_dirs/groups.png --json groups.json
"""
import argparse
import json
import sys

from mmdet_bags.analysis import (check_bin_edges, format_group_table,
                                 load_category_table, plot_group_histogram,
                                 suggest_bin_edges, summarize_groups)
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
    parser.add_argument(
        '--min-group-classes', type=int,
        help='smallest acceptable group (default: 5%% of the classes, at '
        'least 2)')
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
    problems = check_bin_edges(table.instance_counts, args.bin_edges,
                               args.min_group_classes)
    suggestion = None
    if problems:
        print(f'\nbin edges {list(args.bin_edges)} do not suit these '
              'counts:')
        for problem in problems:
            print(f'  - {problem}')
        try:
            suggestion = suggest_bin_edges(table.instance_counts,
                                           len(args.bin_edges) + 1,
                                           args.min_group_classes)
        except ValueError as error:
            print(f'no suggestion: {error}')
        if suggestion is not None:
            suggested = table.layout(suggestion)
            print(f'\nsuggested bin edges {list(suggestion)} (classes '
                  'sorted by count, cut into parts of equal size):')
            print(format_group_table(
                suggested, summarize_groups(suggested, table.frequencies)))
            remaining = check_bin_edges(table.instance_counts, suggestion,
                                        args.min_group_classes)
            for problem in remaining:
                print(f'  - still: {problem}')
            print('\nin the config: BAGSBBoxHead(..., groups=dict('
                  f"ann_file='{args.source}', bin_edges={tuple(suggestion)}))")
    else:
        print(f'\nbin edges {list(args.bin_edges)}: every group has enough '
              'classes')
    if args.out:
        plot_group_histogram(layout, args.out, table.frequencies,
                             title=f'BAGS groups of {args.source}')
        print(f'histogram written to {args.out}')
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(dict(layout=layout.to_dict(), groups=rows,
                           problems=problems,
                           suggested_bin_edges=None if suggestion is None
                           else list(suggestion)), file, indent=1)
        print(f'layout written to {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
