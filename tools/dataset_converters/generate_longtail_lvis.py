"""Generate a synthetic long-tail detection dataset in LVIS v1 format
(``--format coco``: plus COCO instance files, as a user's own data).

Classes are colour/texture/shape combinations; training instance counts
follow the LVIS v1 long tail, rescaled (see
``mmdet_bags/datasets/synthetic/``). The same preset, settings and
seed always give the same files; an existing complete output with the same
settings and seed is reused unless ``--force``.

Examples:
    python tools/dataset_converters/generate_longtail_lvis.py \
        --preset tiny --out data/longtail_lvis_tiny
    python tools/dataset_converters/generate_longtail_lvis.py --preset small \
        --out data/longtail_lvis_small --seed 1
    python tools/dataset_converters/generate_longtail_lvis.py --preset tiny \
        --num-classes 24 --plan-only
    python tools/dataset_converters/generate_longtail_lvis.py --preset tiny \
        --format coco --out data/my_longtail
"""
import argparse
import sys
import time

from mmdet_bags.datasets import (PRESETS, generate_longtail_coco,
                                 generate_longtail_lvis,
                                 plan_long_tail_dataset, resolve_settings)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', default='tiny', choices=list(PRESETS),
                        help='named sizes (default: %(default)s)')
    parser.add_argument('--out', help='dataset root to write (default: '
                        'data/longtail_lvis_<preset>)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (default: %(default)s)')
    parser.add_argument(
        '--format', choices=('lvis', 'coco'), default='lvis',
        help='lvis: LVIS v1 files; coco: also COCO instance files '
        'annotations/instances_{train,val}2017.json (default: %(default)s)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if a matching output exists')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bars')
    parser.add_argument('--plan-only', action='store_true',
                        help='print the planned statistics, draw nothing')
    sizes = parser.add_argument_group('overrides of the preset')
    sizes.add_argument('--num-classes', type=int)
    sizes.add_argument('--num-train-images', type=int)
    sizes.add_argument('--num-val-images', type=int)
    sizes.add_argument('--image-size', type=int, help='square side, px')
    sizes.add_argument('--objects-per-image', type=int, nargs=2,
                       metavar=('MIN', 'MAX'))
    sizes.add_argument('--min-val-instances', type=int,
                       dest='min_val_instances_per_class',
                       help='validation instances of every class, at least')
    sizes.add_argument('--num-neg-categories', type=int,
                       help='neg_category_ids per image (-1: all absent)')
    return parser.parse_args(argv)


def _overrides(args: argparse.Namespace) -> dict:
    names = ('num_classes', 'num_train_images', 'num_val_images',
             'image_size', 'objects_per_image',
             'min_val_instances_per_class', 'num_neg_categories')
    return {name: getattr(args, name) for name in names
            if getattr(args, name) is not None}


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = args.out or f'data/longtail_lvis_{args.preset}'
    try:
        settings = resolve_settings(args.preset, **_overrides(args))
        plan = plan_long_tail_dataset(settings, args.seed)
    except ValueError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'preset {args.preset!r}, seed {args.seed}: {settings}')
    if args.plan_only:
        print(f'planned training instances: '
              f'{int(plan.train_instance_counts.sum())}, scale factor '
              f'{plan.scale_factor:.4f}')
        print(f'scaled BAGS bin edges: {list(plan.bin_edges)}, classes per '
              f'bin: {list(plan.group_sizes)}')
        print(f'LVIS frequencies (planned): {plan.frequency_counts}')
        return 0

    start = time.perf_counter()
    generate = generate_longtail_coco if args.format == 'coco' else \
        generate_longtail_lvis
    result = generate(out_dir, args.preset, args.seed, force=args.force,
                      progress=not args.no_progress, **_overrides(args))
    seconds = time.perf_counter() - start
    if result['reused']:
        print(f'reused the existing dataset in {result["data_root"]} (same '
              'settings and seed; --force regenerates it)')
    else:
        print(f'generated in {seconds:.1f} s')
    print(f'train annotations: {result["train_ann_file"]}')
    print(f'val annotations:   {result["val_ann_file"]}')
    print(f'train images:      {result["train_img_dir"]}')
    print(f'val images:        {result["val_img_dir"]}')
    print(f'scaled BAGS bin edges: {list(result["bin_edges"])} (scale factor '
          f'{result["scale_factor"]:.4f}), classes per bin: '
          f'{list(result["group_sizes"])}')
    print(f'LVIS frequencies: {result["frequency_counts"]}')
    if result['dropped_instances']:
        print(f'note: {result["dropped_instances"]} planned instances were '
              'almost fully occluded and dropped')
    if args.format == 'coco':
        print("use it with CocoDataset(data_root=<out>, ann_file='annotations/"
              "instances_train2017.json', data_prefix=dict(img='train2017/'), "
              'metainfo=dict(classes=<the category names>)); see '
              'configs/custom/')
    else:
        print('use it with LVISV1Dataset(data_root=<out>, '
              "ann_file='annotations/lvis_v1_train.json', "
              "data_prefix=dict(img=''), metainfo=dict(classes=<the "
              'category names in id order>))')
    return 0


if __name__ == '__main__':
    sys.exit(main())
