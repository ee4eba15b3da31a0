"""What the long-tail benchmark concludes from its results: the issue's
target checked for every BAGS method, and whether BAGS' gain over softmax
holds under Fixed AP. Lines for the report, never used to tune anything."""
from typing import Dict, List, Sequence

from mmdet_bags.analysis.experiments import metric

#: The target of the benchmark issue, checked and reported, never tuned for:
#: a BAGS method with mean AP and mean APr at or above Seesaw's and mean APf
#: at most 1 point below softmax's.
APF_DROP_LIMIT = 1.0


def target_verdicts(results: Dict[str, dict],
                    iou_types: Sequence[str] = ('bbox', 'segm')) -> List[str]:
    """One line per BAGS method and metric type: AP and APr against Seesaw
    (>=), APf against softmax (>= -1 point); means over seeds."""
    lines = []
    if not {'softmax', 'seesaw'} <= set(results):
        return lines
    for name, result in results.items():
        if not name.startswith('bags'):
            continue
        for iou_type in iou_types:
            def points(stage, key):
                return 100 * metric(results[stage]['metrics'], iou_type, key)
            ap_gap = points(name, 'AP') - points('seesaw', 'AP')
            apr_gap = points(name, 'APr') - points('seesaw', 'APr')
            apf_change = points(name, 'APf') - points('softmax', 'APf')
            met = (ap_gap >= 0 and apr_gap >= 0
                   and apf_change >= -APF_DROP_LIMIT)
            lines.append(
                f'{result["title"]}, {iou_type}: AP {ap_gap:+.1f} and APr '
                f'{apr_gap:+.1f} vs Seesaw (target >= 0), APf '
                f'{apf_change:+.1f} vs softmax (target >= '
                f'-{APF_DROP_LIMIT:.0f}): {"met" if met else "NOT met"}')
    return lines


def fixed_ap_gains(results: Dict[str, dict],
                   iou_types: Sequence[str] = ('bbox', 'segm')) -> List[str]:
    """Whether BAGS' gain over softmax holds under Fixed AP: one line per
    BAGS method and type with the standard and the Fixed AP / APr gains
    (only where the metrics have Fixed AP)."""
    lines = []
    if 'softmax' not in results:
        return lines
    for name, result in results.items():
        for iou_type in iou_types:
            keys = ('AP', 'APr', 'APfixed', 'APfixedr')
            gains = {key: 100 * (metric(result['metrics'], iou_type, key) -
                                 metric(results['softmax']['metrics'],
                                        iou_type, key)) for key in keys}
            if not name.startswith('bags') or gains['APfixed'] != \
                    gains['APfixed']:  # NaN: no Fixed AP in the metrics
                continue
            lines.append(
                f'Fixed AP, {result["title"]}, {iou_type}: vs softmax AP '
                f'{gains["AP"]:+.1f} / APfixed {gains["APfixed"]:+.1f}, APr '
                f'{gains["APr"]:+.1f} / APfixedr {gains["APfixedr"]:+.1f}')
    return lines
