"""GroupSoftmaxLoss: targets, sampling, loss, scores - pinned to exact maths."""
import math

import pytest
import torch

from mmdet_bags.grouping import GroupLayout
from mmdet_bags.models.losses import (GroupSoftmaxLoss, group_softmax_targets,
                                      select_rois)

# label:        0   1    2     3  4   5     (6 = background)
HAND_COUNTS = [5, 50, 500, 5000, 0, 20]
# columns: [fg, bg | o1, c0, c4 | o2, c1, c5 | o3, c2 | o4, c3]
GROUP_COLUMNS = [[0, 1], [2, 3, 4], [5, 6, 7], [8, 9], [10, 11]]
BACKGROUND = 6


def make_loss(others_sample_ratio=None, counts=HAND_COUNTS, **kwargs):
    return GroupSoftmaxLoss(
        num_classes=len(counts),
        groups=dict(instance_counts=counts),
        others_sample_ratio=others_sample_ratio,
        **kwargs)


def reference_loss(logits, labels, weights=None):
    """Plain-Python BAGS loss with every 'others' RoI kept (beta = all)."""
    layout = GroupLayout.from_counts(HAND_COUNTS)
    rows = logits.tolist()
    weights = [1.0] * len(rows) if weights is None else weights
    total = 0.0
    for group, columns in enumerate(GROUP_COLUMNS):
        members = ([BACKGROUND] if group == 0 else
                   layout.classes_in_group(group).tolist())
        has_positive = any(label in members and weight > 0
                           for label, weight in zip(labels, weights))
        numerator = denominator = 0.0
        for row, label, weight in zip(rows, labels, weights):
            if weight <= 0 or (group > 0 and not has_positive):
                continue
            position = members.index(label) + 1 if label in members else 0
            exps = [math.exp(row[c]) for c in columns]
            cross_entropy = -math.log(exps[position] / sum(exps))
            numerator += weight * cross_entropy
            denominator += weight
        total += numerator / max(denominator, 1.0)
    return total


def reference_scores(row):
    """Plain-Python BAGS scores of one logit row: (C + 1) values."""
    def softmax(columns):
        exps = [math.exp(row[c]) for c in columns]
        return [e / sum(exps) for e in exps]
    group0 = softmax(GROUP_COLUMNS[0])
    layout = GroupLayout.from_counts(HAND_COUNTS)
    scores = [0.0] * (len(HAND_COUNTS) + 1)
    for group in range(1, 5):
        probabilities = softmax(GROUP_COLUMNS[group])
        for position, label in enumerate(
                layout.classes_in_group(group).tolist(), 1):
            scores[label] = group0[0] * probabilities[position]
    scores[-1] = group0[1]
    return scores


# ------------------------------------------------------------------ targets
def test_targets_on_a_hand_made_example():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    labels = torch.tensor([0, 1, BACKGROUND, 4, 3, 2, 5])
    targets = group_softmax_targets(labels, layout.group_of_label,
                                    layout.column_of_label,
                                    layout.extra_columns)
    assert targets.tolist() == [
        [0, 3, 5, 8, 10],   # class 0 (group 1)
        [0, 2, 6, 8, 10],   # class 1 (group 2)
        [1, 2, 5, 8, 10],   # background: "others" everywhere
        [0, 4, 5, 8, 10],   # class 4 (group 1, second member)
        [0, 2, 5, 8, 11],   # class 3 (group 4)
        [0, 2, 5, 9, 10],   # class 2 (group 3)
        [0, 2, 7, 8, 10],   # class 5 (group 2, second member)
    ]


# --------------------------------------------------------------------- loss
def test_loss_equals_hand_computation_without_sampling():
    torch.manual_seed(0)
    logits = torch.randn(9, 12, dtype=torch.float64) * 3
    labels = [0, 1, 6, 6, 4, 3, 5, 6, 1]   # no class of group 3
    losses = make_loss()(logits, torch.tensor(labels))
    assert losses['loss_cls'].item() == pytest.approx(
        reference_loss(logits, labels), rel=1e-6)
    group_terms = [losses[f'bags_group{k}_ce'].item() for k in range(5)]
    assert sum(group_terms) == pytest.approx(losses['loss_cls'].item())
    assert group_terms[3] == 0.0


def test_loss_on_three_rois_by_hand():
    """All-zero logits: every group softmax is uniform, so each selected RoI
    costs log(group width); groups 3 and 4 have no positive."""
    labels = torch.tensor([0, 1, BACKGROUND])
    loss = make_loss()(torch.zeros(3, 12), labels)
    # group 0: 3 RoIs, log 2; group 1 (width 3) and group 2 (width 3): all
    # three RoIs (one positive each, two others), log 3.
    expected = math.log(2) + 2 * math.log(3)
    assert loss['loss_cls'].item() == pytest.approx(expected, rel=1e-6)


def test_label_weights_scale_and_zero_weight_rois_are_ignored():
    torch.manual_seed(1)
    logits = torch.randn(6, 12, dtype=torch.float64)
    labels = [0, 2, 6, 3, 1, 6]
    weights = [1.0, 2.0, 0.5, 0.0, 1.0, 1.0]
    loss = make_loss()(logits, torch.tensor(labels),
                       label_weights=torch.tensor(weights))
    assert loss['loss_cls'].item() == pytest.approx(
        reference_loss(logits, labels, weights), rel=1e-6)
    # The only group-4 positive has weight 0: group 4 contributes nothing.
    assert loss['bags_group4_ce'].item() == 0.0


def test_avg_factor_does_not_change_the_loss():
    logits = torch.randn(5, 12)
    labels = torch.tensor([0, 1, 6, 6, 2])
    loss = make_loss()
    assert torch.equal(loss(logits, labels)['loss_cls'],
                       loss(logits, labels, avg_factor=123.0)['loss_cls'])


def test_reductions_and_loss_weight():
    torch.manual_seed(2)
    logits = torch.randn(7, 12, dtype=torch.float64)
    labels = torch.tensor([0, 1, 6, 6, 4, 3, 5])
    loss = make_loss(loss_weight=0.5)
    mean = loss(logits, labels)['loss_cls']
    assert mean.item() == pytest.approx(
        0.5 * reference_loss(logits, labels.tolist()), rel=1e-6)
    per_roi = loss(logits, labels, reduction_override='none')['loss_cls']
    total = loss(logits, labels, reduction_override='sum')['loss_cls']
    assert per_roi.shape == (7, )
    assert per_roi.sum().item() == pytest.approx(total.item(), rel=1e-9)
    # Without group 3 positives, 'sum' sums every selected RoI's CE once per
    # group; with 7 RoIs selected by groups 0, 1, 2 and 4 it exceeds 'mean'.
    assert total > mean


def test_group_without_positives_has_zero_loss_and_zero_gradient():
    torch.manual_seed(3)
    logits = torch.randn(8, 12, requires_grad=True)
    labels = torch.tensor([0, 1, 6, 6, 4, 5, 6, 0])  # no class 2, no class 3
    loss = make_loss(others_sample_ratio=8.0)(logits, labels)
    assert loss['bags_group3_ce'].item() == 0.0
    assert loss['bags_group4_ce'].item() == 0.0
    loss['loss_cls'].backward()
    assert torch.count_nonzero(logits.grad[:, 8:12]) == 0
    assert torch.count_nonzero(logits.grad[:, 0:8]) > 0


def test_only_background_rois_train_only_group_zero():
    logits = torch.randn(4, 12, requires_grad=True)
    loss = make_loss(others_sample_ratio=8.0)(logits,
                                              torch.full((4, ), BACKGROUND))
    loss['loss_cls'].backward()
    assert torch.count_nonzero(logits.grad[:, 2:]) == 0
    assert loss['loss_cls'].item() == pytest.approx(
        loss['bags_group0_ce'].item())


def test_empty_batch_gives_zero_loss():
    logits = torch.zeros(0, 12, requires_grad=True)
    loss = make_loss(others_sample_ratio=8.0)(logits,
                                              torch.zeros(0, dtype=torch.long))
    assert loss['loss_cls'].item() == 0.0
    loss['loss_cls'].backward()


def test_gradcheck_in_double_precision():
    torch.manual_seed(4)
    logits = torch.randn(6, 12, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 2, 6, 3, 1, 4])
    loss = make_loss()
    assert torch.autograd.gradcheck(
        lambda x: loss(x, labels)['loss_cls'], (logits, ))

    sampled = make_loss(others_sample_ratio=1.0)

    def with_fixed_sampling(x):
        torch.manual_seed(0)
        return sampled(x, labels)['loss_cls']
    assert torch.autograd.gradcheck(with_fixed_sampling, (logits, ))


# ----------------------------------------------------------------- sampling
def random_labels(num_rois, generator, background_fraction=0.7):
    labels = torch.randint(0, 6, (num_rois, ), generator=generator)
    background = torch.rand(num_rois, generator=generator) < \
        background_fraction
    return labels.masked_fill(background, BACKGROUND)


@pytest.mark.parametrize('ratio', [0.0, 0.5, 1.0, 1.5, 6.0, 8.0])
def test_sampled_others_count_is_exact(ratio):
    layout = GroupLayout.from_counts(HAND_COUNTS)
    generator = torch.Generator().manual_seed(int(ratio * 10))
    for trial in range(20):
        num_rois = int(torch.randint(1, 200, (1, ), generator=generator))
        labels = random_labels(num_rois, generator)
        valid = torch.rand(num_rois, generator=generator) > 0.1
        selected = select_rois(labels, layout.group_of_label, valid, ratio,
                               layout.num_groups)
        assert torch.equal(selected[:, 0], valid)
        for group in range(1, layout.num_groups):
            positive = (layout.group_of_label[labels] == group) & valid
            others = ~positive & valid
            num_positive = int(positive.sum())
            expected = min(math.floor(ratio * num_positive),
                           int(others.sum()))
            assert torch.all(selected[positive, group])  # positives kept
            assert not torch.any(selected[~valid, group])
            assert int(selected[others, group].sum()) == expected, \
                (trial, group, num_positive)


def test_sampling_without_ratio_keeps_all_others_of_groups_with_positives():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    labels = torch.tensor([0, 6, 6, 1, 6])
    selected = select_rois(labels, layout.group_of_label,
                           torch.ones(5, dtype=torch.bool), None,
                           layout.num_groups)
    assert selected[:, 1].tolist() == [True] * 5   # group 1 has class 0
    assert selected[:, 2].tolist() == [True] * 5   # group 2 has class 1
    assert selected[:, 3].tolist() == [False] * 5  # no positive
    assert selected[:, 4].tolist() == [False] * 5


def test_sampling_is_reproducible_with_the_seed_and_varies_without():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    labels = random_labels(512, torch.Generator().manual_seed(0), 0.9)
    valid = torch.ones(512, dtype=torch.bool)

    def draw(seed):
        torch.manual_seed(seed)
        return select_rois(labels, layout.group_of_label, valid, 2.0,
                           layout.num_groups)
    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))


def test_sampling_is_uniform_over_others():
    """Every 'others' RoI is drawn with the same probability m / #others."""
    layout = GroupLayout.from_counts(HAND_COUNTS)
    labels = torch.tensor([3] + [6] * 9)   # group 4: 1 positive, 9 others
    valid = torch.ones(10, dtype=torch.bool)
    torch.manual_seed(0)
    hits = torch.zeros(10)
    trials = 3000
    for _ in range(trials):
        hits += select_rois(labels, layout.group_of_label, valid, 3.0,
                            layout.num_groups)[:, 4].float()
    assert hits[0] == trials
    frequencies = hits[1:] / trials
    assert torch.allclose(frequencies, torch.full((9, ), 3 / 9), atol=0.04)


# --------------------------------------------------------------- activation
def test_activation_matches_the_formula():
    torch.manual_seed(5)
    logits = torch.randn(4, 12, dtype=torch.float64) * 2
    scores = make_loss().get_activation(logits)
    assert scores.shape == (4, 7)
    for row, row_scores in zip(logits, scores):
        assert row_scores.tolist() == pytest.approx(
            reference_scores(row.tolist()), rel=1e-9)


def test_activation_drops_others_and_does_not_renormalise():
    logits = torch.zeros(1, 12)
    scores = make_loss().get_activation(logits)[0]
    # p0 = (1/2, 1/2); groups 1, 2 have 3 entries, groups 3, 4 have 2.
    expected = [1 / 6, 1 / 6, 1 / 4, 1 / 4, 1 / 6, 1 / 6, 1 / 2]
    assert scores.tolist() == pytest.approx(expected)
    # Not a distribution: each group's classes share p0[fg] separately.
    assert scores.sum().item() == pytest.approx(0.5 + 0.5 * (2 / 3 + 2 / 3 +
                                                             1 / 2 + 1 / 2))


def test_half_precision_logits_do_not_overflow():
    torch.manual_seed(6)
    logits = (torch.randn(32, 12) * 1e4).half().requires_grad_(True)
    labels = random_labels(32, torch.Generator().manual_seed(1))
    loss = make_loss(others_sample_ratio=8.0)(logits, labels)
    assert loss['loss_cls'].dtype == torch.float32
    assert torch.isfinite(loss['loss_cls'])
    loss['loss_cls'].backward()
    assert torch.isfinite(logits.grad).all()
    scores = make_loss().get_activation(logits.detach())
    assert scores.dtype == torch.float16
    assert torch.isfinite(scores).all()
    assert (scores >= 0).all() and (scores <= 1).all()


# ------------------------------------------------------- BBoxHead interface
def test_head_hooks():
    loss = make_loss()
    assert loss.custom_cls_channels and loss.custom_activation
    assert loss.custom_accuracy
    assert loss.get_cls_channels(6) == 12
    with pytest.raises(ValueError, match='num_classes=5.*num_classes=6'):
        loss.get_cls_channels(5)


def test_accuracy():
    loss = make_loss()
    logits = torch.full((3, 12), -10.0)
    # RoI 0: background, group 0 says bg. RoI 1: class 1, fg and class 1
    # wins. RoI 2: class 2, fg, but class 0 scores highest.
    logits[0, 1] = 10
    logits[1, 0] = 10
    logits[1, 6] = 10
    logits[2, 0] = 10
    logits[2, 3] = 10
    accuracies = loss.get_accuracy(logits, torch.tensor([6, 1, 2]))
    assert accuracies['acc_objectness'].item() == pytest.approx(100.0)
    assert accuracies['acc_classes'].item() == pytest.approx(50.0)


def test_registered_and_built_from_config():
    from mmdet.registry import MODELS
    loss = MODELS.build(dict(type='GroupSoftmaxLoss', num_classes=1203,
                             groups='lvis_v1', use_sigmoid=False,
                             loss_weight=1.0))
    assert loss.get_cls_channels(1203) == 1209
    assert loss.others_sample_ratio == 8.0


@pytest.mark.parametrize('kwargs, match', [
    (dict(use_sigmoid=True), 'use_sigmoid=True'),
    (dict(others_sample_ratio=-1.0), 'others_sample_ratio'),
    (dict(others_sample_ratio=float('nan')), 'others_sample_ratio'),
    (dict(others_sample_ratio='8'), 'others_sample_ratio'),
    (dict(reduction='avg'), 'reduction'),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_loss(**kwargs)


def test_num_classes_must_match_the_groups():
    with pytest.raises(ValueError, match='num_classes=80.*1203 classes'):
        GroupSoftmaxLoss(num_classes=80, groups='lvis_v1')


def test_wrong_logit_width_is_refused():
    with pytest.raises(ValueError, match=r'shape \(N, 12\)'):
        make_loss()(torch.zeros(2, 7), torch.tensor([0, 6]))


def test_labels_out_of_range_are_refused():
    with pytest.raises(RuntimeError, match=r'labels must be in \[0, 6\]'):
        make_loss()(torch.zeros(2, 12), torch.tensor([0, 7]))
    with pytest.raises(RuntimeError, match=r'labels must be in \[0, 6\]'):
        make_loss()(torch.zeros(2, 12), torch.tensor([-1, 0]))


# -------------------------------------------------------------- checkpoints
def test_state_dict_carries_the_groups():
    state = make_loss().state_dict()
    assert set(state) == {'instance_counts', 'bin_edges'}
    assert state['instance_counts'].tolist() == HAND_COUNTS
    assert state['bin_edges'].tolist() == [10, 100, 1000]
    same = make_loss(counts=[6, 60, 600, 6000, 1, 21])
    same.load_state_dict(state)


def test_loading_different_groups_names_both_layouts():
    state = make_loss().state_dict()
    other = make_loss(counts=[50, 5, 500, 5000, 0, 20])
    with pytest.raises(RuntimeError) as error:
        other.load_state_dict(state)
    message = str(error.value)
    assert 'different BAGS groups' in message
    assert 'label 0: group 1 vs 2' in message
    assert 'checkpoint' in message and 'model (config)' in message
    lvis = GroupSoftmaxLoss(num_classes=1203, groups='lvis_v1')
    with pytest.raises(RuntimeError, match='6 classes vs 1203 classes'):
        lvis.load_state_dict(state, strict=False)


def test_module_follows_dtype_and_device_moves():
    loss = make_loss().double()
    assert loss.instance_counts.dtype == torch.long
    assert loss.column_of_label.dtype == torch.long


def test_deferred_groups_come_from_the_checkpoint():
    trained = make_loss()
    deferred = GroupSoftmaxLoss(num_classes=6)
    assert deferred.get_cls_channels(6) == 8  # placeholder until loaded
    with pytest.raises(RuntimeError, match='has no groups'):
        deferred(torch.zeros(1, 12), torch.tensor([0]))
    with pytest.raises(RuntimeError, match='has no groups'):
        deferred.get_activation(torch.zeros(1, 12))
    deferred.load_state_dict(trained.state_dict())
    assert deferred.layout == trained.layout
    logits = torch.randn(3, 12)
    assert torch.equal(deferred.get_activation(logits),
                       trained.get_activation(logits))


def test_deferred_groups_take_the_checkpoint_edges_not_the_config_ones():
    trained = make_loss(bin_edges=(100, ))
    deferred = GroupSoftmaxLoss(num_classes=6, bin_edges=(10, 100, 1000))
    deferred.load_state_dict(trained.state_dict())
    assert deferred.layout.bin_edges == (100, )
    assert deferred.layout == trained.layout
