"""What BAGS adds to one Mask R-CNN R50-FPN LVIS v1 training step and to one
inference image (CPU or CUDA), with a whole-step A/B against the softmax head.

Example (a few minutes on 2 CPU cores):
    python tools/analysis/benchmark_train_step.py --threads 2 \
        --image-size 512 --steps 5 --out work_dirs/train_step_benchmark.md
"""
import argparse
import json
import platform
import sys

import torch

from mmdet_bags.analysis.benchmark_train_step import (benchmark_train_step,
                                                      format_train_step)
from mmdet_bags.analysis.experiments import SMOKE_TEST_SIZES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--image-size', type=int, default=512,
                        help='square images of this size (default: '
                        '%(default)s)')
    parser.add_argument('--images', type=int, default=2,
                        help='images per training step (default: %(default)s)')
    parser.add_argument('--steps', type=int, default=5,
                        help='timed steps per model, interleaved (default: '
                        '%(default)s)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--loss-repeats', type=int, default=30,
                        help='timed calls of the losses and activations')
    parser.add_argument('--depth', type=int, default=50,
                        help='ResNet depth (default: %(default)s, the config)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--device', default='cpu',
                        help="'cpu' or 'cuda' (timed with CUDA events)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: ResNet-18, 128 px, 1 step each, 2 objects '
                        'per image, 100 proposals and 20 detections per test '
                        'image')
    parser.add_argument('--out', help='also write the markdown tables here')
    parser.add_argument('--json', help='write the raw result as JSON here')
    args = parser.parse_args(argv)
    if args.quick:
        args.image_size, args.steps, args.warmup = 128, 1, 0
        args.loss_repeats, args.depth = 2, 18
        # an untrained model passes most RoIs: small test-time sizes
        args.test_sizes, args.objects = SMOKE_TEST_SIZES, 2
    else:
        args.test_sizes, args.objects = None, 12
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        where = f'CUDA {torch.cuda.get_device_name(args.device)}'
    else:
        where = f'{platform.processor() or platform.machine()}, CPU'
    header = (f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
              f'{where}; Mask R-CNN R{args.depth}-FPN LVIS v1, '
              f'{args.images} x {args.image_size}x{args.image_size} px per '
              f'step, {args.steps} interleaved steps per model after '
              f'{args.warmup} warm-up; losses: median of {args.loss_repeats}')
    print(header, flush=True)
    result = benchmark_train_step(args.image_size, args.images, args.steps,
                                  args.warmup, args.loss_repeats, args.depth,
                                  args.device, args.seed, args.test_sizes,
                                  args.objects)
    tables = format_train_step(result)
    print(tables)
    if args.out:
        with open(args.out, 'w') as file:
            file.write(header + '\n\n' + tables + '\n')
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(dict(result, header=header), file, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
