"""Plots of the demo and benchmarks: classifier weight norms and AP per bin."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from mmdet_bags.grouping import bins
from mmdet_bags.grouping.layout import layout_from_state_dict


def classifier_class_norms(state_dict: Dict[str, torch.Tensor],
                           num_classes: int,
                           prefix: str = 'roi_head.bbox_head.'
                           ) -> np.ndarray:
    """L2 norm of each foreground class's classifier row, in label order.

    Works for an ordinary softmax classifier (``C + 1`` rows, class ``c`` in
    row ``c``), for Seesaw's (``C + 2`` rows, classes first) and for a BAGS
    classifier (its checkpoint carries the groups, which give each class's
    row).

    Returns:
        np.ndarray: ``(C,)`` norms.
    """
    weight = state_dict[prefix + 'fc_cls.weight'].float()
    layout = layout_from_state_dict(state_dict, prefix + 'loss_cls.')
    if layout is not None:
        rows = layout.class_columns
    else:
        if weight.size(0) not in (num_classes + 1, num_classes + 2):
            raise ValueError(f'{prefix}fc_cls has {weight.size(0)} rows, '
                             f'expected {num_classes + 1} (softmax), '
                             f'{num_classes + 2} (Seesaw) or BAGS groups in '
                             'the checkpoint')
        rows = torch.arange(num_classes)
    return weight[rows].norm(dim=1).numpy()


def plot_classifier_norms(norms_by_method: Dict[str, np.ndarray],
                          instance_counts: Sequence[int], out_file: str,
                          title: str = '') -> None:
    """Per-class classifier weight norms, classes sorted by training count
    (most frequent first): the paper's Figure 1 diagnosis of imbalance."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    order = np.argsort(-np.asarray(instance_counts), kind='stable')
    figure, norm_axes = plt.subplots(figsize=(9, 4))
    count_axes = norm_axes.twinx()
    count_axes.bar(range(len(order)), np.asarray(instance_counts)[order],
                   color='0.85', label='training instances')
    count_axes.set_yscale('log')
    count_axes.set_ylabel('training instances (log)')
    for name, norms in norms_by_method.items():
        norm_axes.plot(range(len(order)), np.asarray(norms)[order],
                       marker='.', label=name)
    norm_axes.set_zorder(count_axes.get_zorder() + 1)
    norm_axes.patch.set_visible(False)
    norm_axes.set_xlabel('classes, sorted by training instances')
    norm_axes.set_ylabel('classifier weight norm')
    norm_axes.legend(loc='upper right')
    norm_axes.set_title(title or 'Classifier weight norm per class')
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)


def plot_ap_per_bin(ap_by_method: Dict[str, Sequence[float]],
                    bin_labels: Sequence[str], out_file: str,
                    title: str = '', ylabel: str = 'AP',
                    errors: Optional[Dict[str, Sequence[float]]] = None
                    ) -> None:
    """Grouped bars: AP of each instance-count bin for each method (a
    missing bin, reported as a negative value, is drawn as no bar).

    ``errors`` (same keys and lengths as ``ap_by_method``, e.g. the std over
    training seeds) are drawn as error bars of +- that much."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = list(ap_by_method)
    width = 0.8 / max(len(methods), 1)
    # Room on the right for the legend (inside, the names of many methods
    # hide bars).
    figure, axes = plt.subplots(figsize=(1.8 * len(bin_labels) + 6, 4))
    for index, name in enumerate(methods):
        values = [max(float(v), 0.0) if v is not None and v >= 0 else 0.0
                  for v in ap_by_method[name]]
        positions = [b + (index - (len(methods) - 1) / 2) * width
                     for b in range(len(bin_labels))]
        yerr = None
        if errors is not None and name in errors:
            yerr = [float(e) if v > 0 else 0.0
                    for e, v in zip(errors[name], values)]
        axes.bar(positions, values, width=width, label=name, yerr=yerr,
                 capsize=2 if yerr is not None else 0)
    axes.set_xticks(range(len(bin_labels)))
    axes.set_xticklabels(bin_labels)
    axes.set_xlabel('training instances of the class (bin)')
    axes.set_ylabel(ylabel)
    axes.set_title(title or 'AP per instance-count bin')
    axes.legend(fontsize='small', loc='upper left', bbox_to_anchor=(1, 1))
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)


def bin_labels(bin_edges: Sequence[int]) -> list:
    """``['AP1 [0, 2)', 'AP2 [2, 19)', ...]`` for the plots and tables."""
    return [f'AP{i} {span}'
            for i, span in enumerate(bins.bin_labels(bin_edges), start=1)]


