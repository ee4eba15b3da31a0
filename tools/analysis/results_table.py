"""One comparison table from several runs (work dirs, metrics.json files or
MMEngine JSON logs): markdown on stdout, optional CSV and plot.

    python tools/analysis/results_table.py work_dirs/r50_bags work_dirs/r101_bags \
        --names R50 R101 --csv work_dirs/compare.csv --plot work_dirs/compare.png
"""
import argparse
import os.path as osp
import sys

from mmdet_bags.analysis.results_table import (comparison_rows,
                                               format_markdown,
                                               load_run_metrics,
                                               plot_comparison, write_csv)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+',
                        help='work dirs, metrics.json files or JSON logs')
    parser.add_argument('--names', nargs='+',
                        help='row names (default: folder names)')
    parser.add_argument('--iou-types', nargs='+', default=['bbox', 'segm'])
    parser.add_argument('--csv', help='write the table as CSV here')
    parser.add_argument('--plot', help='write a PNG bar chart here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = args.names or [osp.basename(osp.normpath(run))
                           for run in args.runs]
    if len(names) != len(args.runs):
        print('error: give one name per run', file=sys.stderr)
        return 2
    try:
        runs = {name: load_run_metrics(run)
                for name, run in zip(names, args.runs)}
    except FileNotFoundError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    rows = comparison_rows(runs, args.iou_types)
    print(format_markdown(rows))
    if args.csv:
        write_csv(rows, args.csv)
    if args.plot:
        plot_comparison(rows, args.plot, args.iou_types[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
