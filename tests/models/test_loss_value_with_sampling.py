"""The loss VALUE with "others" sampling (beta = 8 and 1, as in the paper and
its ablation), against an independent plain-Python computation on the same
selected RoIs.

The loss draws its "others" RoIs with ``select_rois`` from torch's global
generator; drawing again from the same seed gives the loss's own selection,
which is checked against the sampling rule first and then fed to a per-group
cross-entropy written from the method's definition (bags-method.md, section
3), not from the package's code.
"""
import math

import pytest
import torch

from mmdet_bags.grouping import GroupLayout
from mmdet_bags.models.losses import GroupSoftmaxLoss, select_rois

# label:        0   1    2     3  4   5     (6 = background)
COUNTS = [5, 50, 500, 5000, 0, 20]
BACKGROUND = 6
# The layout's columns, written out by hand from the documented order
# (docs/method.md): group 0 = [foreground, background], then per group its
# "others" column followed by its classes in ascending label order.
GROUP_COLUMNS = [[0, 1], [2, 3, 4], [5, 6, 7], [8, 9], [10, 11]]
GROUP_MEMBERS = [[BACKGROUND], [0, 4], [1, 5], [2], [3]]


def independent_loss(logits, labels, weights, selected):
    """Sum over groups of the weighted mean cross-entropy of the selected RoIs
    (group 0: background vs foreground; group k: own class vs 'others')."""
    total = 0.0
    for group, columns in enumerate(GROUP_COLUMNS):
        numerator = denominator = 0.0
        for row, label, weight, chosen in zip(logits.tolist(), labels,
                                              weights, selected[:, group]):
            if not chosen:
                continue
            members = GROUP_MEMBERS[group]
            if group == 0:
                position = 1 if label == BACKGROUND else 0
            else:
                position = members.index(label) + 1 if label in members else 0
            largest = max(row[c] for c in columns)
            log_sum = largest + math.log(
                sum(math.exp(row[c] - largest) for c in columns))
            numerator += weight * (log_sum - row[columns[position]])
            denominator += weight
        total += numerator / max(denominator, 1.0)
    return total


def check_sampling_rule(selected, labels, valid, ratio):
    """All positives of a group, floor(ratio * |P_k|) of its others (or all
    of them if fewer), nothing for a group without positives; group 0
    (background vs foreground) takes every valid RoI, unsampled."""
    assert [bool(c) for c in selected[:, 0].tolist()] == \
        [bool(v) for v in valid]
    for group in range(1, len(GROUP_COLUMNS)):
        positive = [label in GROUP_MEMBERS[group] and ok
                    for label, ok in zip(labels, valid)]
        others = [ok and not pos for pos, ok in zip(positive, valid)]
        column = selected[:, group].tolist()
        assert all(c for c, p in zip(column, positive) if p)
        kept_others = sum(c for c, o in zip(column, others) if o)
        expected = min(math.floor(ratio * sum(positive)), sum(others))
        assert kept_others == expected
        assert not any(c for c, ok in zip(column, valid) if not ok)


@pytest.mark.parametrize('ratio', [8.0, 1.0])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_sampled_loss_equals_the_independent_computation(ratio, seed):
    generator = torch.Generator().manual_seed(100 + seed)
    num_rois = 300
    labels = torch.randint(0, 6, (num_rois, ), generator=generator)
    # Mostly background, as after MMDetection's 25 %-positive RoI sampler, so
    # that beta * |P_k| is smaller than the number of "others" and the
    # sampling really drops RoIs.
    labels[torch.rand(num_rois, generator=generator) < 0.85] = BACKGROUND
    weights = torch.ones(num_rois, dtype=torch.float64)
    weights[torch.rand(num_rois, generator=generator) < 0.05] = 0.0
    logits = torch.randn(num_rois, 12, generator=generator,
                         dtype=torch.float64) * 3

    loss = GroupSoftmaxLoss(
        num_classes=6, groups=dict(instance_counts=COUNTS),
        others_sample_ratio=ratio)
    torch.manual_seed(seed)
    value = loss(logits, labels, label_weights=weights)['loss_cls'].item()

    layout = GroupLayout.from_counts(COUNTS)
    torch.manual_seed(seed)
    selected = select_rois(labels, layout.group_of_label, weights > 0, ratio,
                           layout.num_groups)
    label_list = labels.tolist()
    valid = (weights > 0).tolist()
    check_sampling_rule(selected, label_list, valid, ratio)
    # The sampling must bind in this setting, or beta would not be tested.
    assert int(selected[:, 1:].sum()) < \
        sum(valid) * (len(GROUP_COLUMNS) - 1)
    expected = independent_loss(logits, label_list, weights.tolist(),
                                selected)
    assert value == pytest.approx(expected, rel=1e-9)


def test_a_smaller_beta_gives_a_different_loss():
    """beta changes which RoIs count, so the value must move with it."""
    generator = torch.Generator().manual_seed(5)
    labels = torch.full((200, ), BACKGROUND)
    labels[:10] = torch.randint(0, 6, (10, ), generator=generator)
    logits = torch.randn(200, 12, generator=generator) * 3
    values = {}
    for ratio in (1.0, 8.0, None):
        loss = GroupSoftmaxLoss(num_classes=6,
                                groups=dict(instance_counts=COUNTS),
                                others_sample_ratio=ratio)
        torch.manual_seed(0)
        values[ratio] = loss(logits, labels)['loss_cls'].item()
    assert len({round(v, 6) for v in values.values()}) == 3
