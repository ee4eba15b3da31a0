"""Convert a BAGS checkpoint of the original code or of eqlv2 for mmdet-bags.

--source original: FishYuLi/BalancedGroupSoftmax (MMDetection v1.0rc0,
    GSBBoxHeadWith0, LVIS v0.5): keys moved under roi_head., background
    slots of fc_reg / mask conv_logits dropped, fc_cls rows reordered.
--source eqlv2: tztztztztz/eqlv2 (MMDetection 2.3, GroupSoftmax loss, LVIS
    v1 by default): fc_cls rows reordered.
Both add the groups (loss_cls.instance_counts / bin_edges), so a
BAGSBBoxHead with groups=None loads the result. The input is only read.

Example:
    python tools/model_converters/convert_bags_checkpoint.py \
        gs_faster_rcnn_r50_fpn_1x_lvis_with0_bg8.pth \
        bags_faster_r50_lvis_v0.5_converted.pth --source original
"""
import argparse
import sys

from mmdet_bags.converters import (SOURCES, CheckpointConversionError,
                                   convert_checkpoint_file)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='the source checkpoint (.pth)')
    parser.add_argument('out_file', help='where to write the converted one')
    parser.add_argument('--source', required=True, choices=sorted(SOURCES),
                        help='which code wrote the checkpoint')
    parser.add_argument(
        '--groups',
        help='training-set counts the checkpoint was grouped by: lvis_v0.5, '
        'lvis_v1 or a COCO/LVIS-format train .json (default: lvis_v0.5 for '
        'original, lvis_v1 for eqlv2)')
    parser.add_argument('--bin-edges', type=int, nargs='+',
                        help='instance-count bin edges it was trained with '
                        '(default: 10 100 1000)')
    parser.add_argument('--label2binlabel',
                        help="original only: its label2binlabel.pt, to read "
                        'the layout from its own tables (with --pred-slice)')
    parser.add_argument('--pred-slice',
                        help='original only: its pred_slice_with0.pt')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='read the input with weights_only=False (runs '
                        'code in the file: only for files you trust)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        converted = convert_checkpoint_file(
            args.in_file, args.out_file, args.source, groups=args.groups,
            bin_edges=args.bin_edges, label2binlabel_file=args.label2binlabel,
            pred_slice_file=args.pred_slice, trust_pickle=args.trust_pickle,
            overwrite=args.overwrite)
    except CheckpointConversionError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{args.in_file} ({args.source}) -> {args.out_file}')
    print(f'groups: {converted.layout.describe()}')
    for change in converted.changes:
        print(f'  - {change}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
