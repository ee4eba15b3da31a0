"""Peak memory and time of PerBinLVISMetric(ap_fixed=True) against
MMDetection's LVISMetric on the same generated LVIS v1-sized detections.

    .venv/bin/python tools/analysis/benchmark_fixed_ap.py \
        --num-images 20000 --dets-per-image 300

See mmdet_bags/analysis/fixed_ap_benchmark.py for what is generated.
"""
import argparse

from mmdet_bags.analysis.fixed_ap_benchmark import run_fixed_ap_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/fixed_ap_benchmark')
    parser.add_argument('--num-images', type=int, default=20000)
    parser.add_argument('--num-categories', type=int, default=1203)
    parser.add_argument('--dets-per-image', type=int, default=300)
    parser.add_argument('--max-dets-per-class', type=int, default=10000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--metrics', nargs='+',
                        default=['LVISMetric', 'PerBinLVISMetric'],
                        choices=['LVISMetric', 'PerBinLVISMetric'])
    parser.add_argument('--max-rss-gib', type=float, default=8.0,
                        help='stop a metric whose process grows beyond this')
    args = parser.parse_args()
    report = run_fixed_ap_benchmark(
        args.work_dir, args.num_images, args.num_categories,
        args.dets_per_image, args.max_dets_per_class, args.seed,
        args.metrics, args.max_rss_gib)
    print(report['table'])


if __name__ == '__main__':
    main()
