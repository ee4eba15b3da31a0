"""The original BAGS code's design, re-implemented as a benchmark straw man.

Not part of the package: only ``benchmark_loss.py`` next to it uses it, by
passing it to :func:`mmdet_bags.analysis.benchmark_loss.benchmark_losses`.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmdet_bags.grouping import GroupLayout


class OriginalDesignGroupSoftmax:
    """A straightforward re-implementation of the original BAGS code's design.

    Same maths as :class:`~mmdet_bags.models.losses.GroupSoftmaxLoss`, built
    the way the official mmdetection-v1 code is structured: labels go to the
    host, targets are built with numpy, "others" are sampled with
    ``numpy`` per group, and each group's cross-entropy is a
    separate call on the selected rows. Benchmark baseline only.
    """

    def __init__(self, layout: GroupLayout, others_sample_ratio: float = 8.0,
                 seed: int = 0):
        self.layout = layout
        self.ratio = others_sample_ratio
        self.random = np.random.RandomState(seed)
        self.group_of_label = layout.group_of_label.numpy()
        self.column_of_label = layout.column_of_label.numpy()
        self.columns = [layout.group_columns(k)
                        for k in range(layout.num_groups)]
        self.starts = [int(c[0]) for c in self.columns]

    def __call__(self, cls_score: Tensor, labels: Tensor) -> Tensor:
        labels_host = labels.cpu().numpy()  # host synchronisation
        label_groups = self.group_of_label[labels_host]
        total = cls_score.new_zeros(())
        for group, columns in enumerate(self.columns):
            in_group = label_groups == group
            local = np.where(
                in_group,
                self.column_of_label[labels_host] - self.starts[group], 0)
            if group == 0:
                rows = np.arange(len(labels_host))
            else:
                positives = np.flatnonzero(in_group)
                if positives.size == 0:
                    continue
                others = np.flatnonzero(~in_group)
                num_drawn = min(int(self.ratio * positives.size),
                                others.size)
                drawn = self.random.choice(others, num_drawn,
                                           replace=False)
                rows = np.concatenate([positives, drawn])
            rows_t = torch.from_numpy(rows).to(cls_score.device)
            targets = torch.from_numpy(local[rows]).to(cls_score.device)
            group_logits = cls_score[rows_t][:, columns[0]:columns[-1] + 1]
            total = total + F.cross_entropy(group_logits.float(), targets)
        return total
