"""Time and peak memory of counting instances in an LVIS v1-sized file.

Generates the file once (about 400 MB, 1.27 M annotations with polygons;
--make-file), then runs each parser in a fresh interpreter:
    python tools/analysis/benchmark_annotation_counting.py /tmp/lvis_v1_sized.json --make-file
"""
import argparse
import json
import os.path as osp
import platform
import sys

from mmdet_bags.analysis.benchmark_annotation_counting import (
    PARSERS, measure, write_lvis_sized_annotation_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', help='the LVIS v1-sized file (read, or '
                        'written with --make-file)')
    parser.add_argument('--make-file', action='store_true',
                        help='generate ann_file first if it does not exist')
    parser.add_argument('--parsers', nargs='+', choices=list(PARSERS),
                        default=list(PARSERS))
    parser.add_argument('--json', help='also write the results here')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.ann_file):
        if not args.make_file:
            print(f'error: {args.ann_file} not found (add --make-file)',
                  file=sys.stderr)
            return 2
        print(f'writing {args.ann_file} ...', flush=True)
        count = write_lvis_sized_annotation_file(args.ann_file)
        print(f'{count} annotations, '
              f'{osp.getsize(args.ann_file) / 1e6:.0f} MB', flush=True)
    print(f'{platform.machine()}, Python {platform.python_version()}; file '
          f'{osp.getsize(args.ann_file) / 1e6:.0f} MB')
    print('| parser | wall time | CPU time | peak RSS above start | '
          'RSS at start |')
    print('|---|---:|---:|---:|---:|')
    results = []
    for name in args.parsers:
        result = measure(name, args.ann_file)
        results.append(result)
        print(f'| {PARSERS[name]} | {result["seconds"]:.1f} s | '
              f'{result["cpu_seconds"]:.1f} s | '
              f'{result["peak_rss_above_start_mb"]:.0f} MB | '
              f'{result["rss_at_start_mb"]:.0f} MB |', flush=True)
    ijson_versions = {r['ijson'] for r in results if 'ijson' in r}
    if ijson_versions:
        print(f'ijson {", ".join(sorted(ijson_versions))}')
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(results, file, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
