"""tools/analysis/benchmark_fixed_ap.py on a tiny generated set: both
metrics run in their own processes, see the same detections and agree on
the standard AP."""
import json

import pytest

pytestmark = pytest.mark.slow


def test_benchmark_measures_both_metrics_on_the_same_detections(tmp_path):
    from mmdet_bags.analysis.fixed_ap_benchmark import run_fixed_ap_benchmark
    report = run_fixed_ap_benchmark(str(tmp_path), num_images=12,
                                    num_categories=8, dets_per_image=320,
                                    max_dets_per_class=15)
    plain, ours = report['rows']
    assert plain['metric'] == 'LVISMetric' and 'stopped' not in plain
    assert plain['results']['lvis/bbox_AP'] == ours['results']['lvis/bbox_AP']
    assert 'lvis/bbox_APfixed' in ours['results']
    assert ours['peak_rss_mib'] >= ours['rss_before_mib'] > 0
    for row in (plain, ours):  # CPU time, at most the wall time (+ slack)
        assert 0 < row['evaluate_cpu_s'] <= row['evaluate_s'] + 0.2
    saved = json.load(open(tmp_path / 'results.json'))
    assert saved['settings']['num_images'] == 12
    assert '| PerBinLVISMetric |' in open(tmp_path / 'results.md').read()


def test_a_metric_beyond_the_memory_limit_is_stopped(tmp_path):
    from mmdet_bags.analysis.fixed_ap_benchmark import run_fixed_ap_benchmark
    report = run_fixed_ap_benchmark(str(tmp_path), num_images=4,
                                    num_categories=5, dets_per_image=10,
                                    metrics=('LVISMetric', ),
                                    max_rss_gib=0.01)
    assert report['rows'][0]['stopped'].startswith('stopped at')
    assert 'stopped at' in report['table']
