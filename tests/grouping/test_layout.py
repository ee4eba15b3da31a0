"""GroupLayout: counts -> groups -> logit columns, exact."""
import json

import pytest
import torch

from mmdet_bags.grouping import (GroupLayout, build_group_layout,
                                 load_builtin_table)

# label:        0   1    2     3  4   5
HAND_COUNTS = [5, 50, 500, 5000, 0, 20]


def test_hand_example_groups_and_sizes():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    assert layout.num_classes == 6
    assert layout.num_groups == 5
    assert layout.num_logits == 6 + 1 + 5
    assert layout.group_of.tolist() == [1, 2, 3, 4, 1, 2]
    assert layout.group_sizes == (2, 2, 1, 1)


def test_hand_example_columns():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    # [fg, bg | others1, 0, 4 | others2, 1, 5 | others3, 2 | others4, 3]
    assert layout.group_columns(0).tolist() == [0, 1]
    assert layout.group_columns(1).tolist() == [2, 3, 4]
    assert layout.group_columns(2).tolist() == [5, 6, 7]
    assert layout.group_columns(3).tolist() == [8, 9]
    assert layout.group_columns(4).tolist() == [10, 11]
    assert layout.foreground_column == 0 and layout.background_column == 1
    assert layout.class_columns.tolist() == [3, 6, 9, 11, 4, 7]
    assert layout.column_of_label.tolist() == [3, 6, 9, 11, 4, 7, 1]
    assert layout.group_of_label.tolist() == [1, 2, 3, 4, 1, 2, 0]
    assert layout.extra_columns.tolist() == [0, 2, 5, 8, 10]
    assert layout.classes_in_group(2).tolist() == [1, 5]


def test_every_column_is_used_exactly_once():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    columns = torch.cat(
        [layout.group_columns(k) for k in range(layout.num_groups)])
    assert sorted(columns.tolist()) == list(range(layout.num_logits))


def test_bin_edges_are_half_open_on_the_right():
    # bisect_right: a count equal to an edge goes to the upper bin.
    layout = GroupLayout.from_counts([9, 10, 99, 100, 999, 1000])
    assert layout.group_of.tolist() == [1, 2, 2, 3, 3, 4]
    assert layout.group_count_range(1) == (0, 10)
    assert layout.group_count_range(2) == (10, 100)
    assert layout.group_count_range(4) == (1000, None)


def test_empty_bins_are_dropped():
    layout = GroupLayout.from_counts([5, 5000, 3])
    assert layout.num_groups == 3
    assert layout.group_of.tolist() == [1, 2, 1]
    assert layout.group_sizes == (2, 1)
    assert layout.group_bins == (0, 3)
    assert layout.group_count_range(2) == (1000, None)
    assert layout.num_logits == 3 + 1 + 3


def test_single_class_and_single_group():
    layout = GroupLayout.from_counts([7])
    assert (layout.num_groups, layout.num_logits) == (2, 4)
    assert layout.group_columns(1).tolist() == [2, 3]


@pytest.mark.parametrize('name, sizes, logits', [
    ('lvis_v1', (200, 412, 334, 257), 1209),
    ('lvis_v0.5', (294, 453, 302, 181), 1236),
])
def test_lvis_reference_group_sizes(name, sizes, logits):
    layout = build_group_layout(name)
    assert layout.group_sizes == sizes
    assert layout.num_logits == logits
    assert layout.num_classes == sum(sizes)


@pytest.mark.parametrize('edges, num_groups', [
    ((100, ), 3),
    ((5, 10, 50, 100, 500, 1000, 5000), 9),
])
def test_paper_ablation_bins_on_lvis_v1(edges, num_groups):
    table = load_builtin_table('lvis_v1')
    layout = build_group_layout('lvis_v1', bin_edges=edges)
    assert layout.num_groups == num_groups
    assert layout.num_logits == 1203 + 1 + num_groups
    expected_first = sum(c < edges[0] for c in table.instance_counts)
    assert layout.group_sizes[0] == expected_first
    assert sum(layout.group_sizes) == 1203


@pytest.mark.parametrize('counts, match', [
    ([3, -1], r'instance_counts\[1\].*non-negative integer'),
    ([3, 2.5], r'instance_counts\[1\].*non-negative integer'),
    ([3, float('nan')], r'instance_counts\[1\]'),
    ([True, 2], r'instance_counts\[0\]'),
    ([], 'empty'),
    ('12', 'sequence'),
])
def test_bad_counts_are_refused(counts, match):
    with pytest.raises(ValueError, match=match):
        GroupLayout.from_counts(counts)


@pytest.mark.parametrize('edges, match', [
    ((100, 10), 'strictly ascending'),
    ((10, 10, 100), 'strictly ascending'),
    ((0, 10), 'positive'),
    ((-5, ), 'positive'),
    ((10.5, ), 'positive integers'),
    ((), 'at least one edge'),
    (10, 'sequence'),
])
def test_bad_bin_edges_are_refused(edges, match):
    with pytest.raises(ValueError, match=match):
        GroupLayout.from_counts([1, 2, 3], edges)


def test_integral_floats_are_accepted():
    layout = GroupLayout.from_counts([1.0, 200.0], (1e1, 1e2))
    assert layout.instance_counts == (1, 200)
    assert layout.bin_edges == (10, 100)


def test_serialisation_round_trips():
    layout = GroupLayout.from_counts(HAND_COUNTS, (10, 100))
    as_json = json.loads(json.dumps(layout.to_dict()))
    assert GroupLayout.from_dict(as_json) == layout
    tensors = layout.state_tensors()
    assert set(tensors) == {'instance_counts', 'bin_edges'}
    assert GroupLayout.from_state_tensors(tensors) == layout


def test_layout_from_state_dict_reads_the_buffers_under_a_prefix():
    from mmdet_bags.grouping.layout import layout_from_state_dict
    layout = GroupLayout.from_counts(HAND_COUNTS, (10, 100))
    prefix = 'roi_head.bbox_head.2.loss_cls.'
    state = {prefix + key: tensor
             for key, tensor in layout.state_tensors().items()}
    state['roi_head.bbox_head.2.fc_cls.weight'] = torch.zeros(3, 2)
    loaded = layout_from_state_dict(state, prefix)
    assert loaded == layout and loaded.bin_edges == (10, 100)
    # Another stage, or an ordinary softmax checkpoint: no groups.
    assert layout_from_state_dict(state, 'roi_head.bbox_head.loss_cls.') \
        is None
    state[prefix + 'bin_edges'] = torch.tensor([100, 10])
    with pytest.raises(ValueError, match='invalid BAGS groups at '
                       r'roi_head\.bbox_head\.2\.loss_cls\.\*: bin_edges '
                       'must be strictly ascending'):
        layout_from_state_dict(state, prefix)


def test_from_dict_checks_its_group_sizes():
    data = GroupLayout.from_counts(HAND_COUNTS).to_dict()
    data['group_sizes'] = [1, 1, 1, 3]
    with pytest.raises(ValueError, match='group sizes'):
        GroupLayout.from_dict(data)


def test_equality_is_about_the_grouping():
    a = GroupLayout.from_counts([5, 50, 500])
    assert a == GroupLayout.from_counts([6, 60, 600])
    assert a.difference(GroupLayout.from_counts([6, 60, 600])) is None
    b = GroupLayout.from_counts([50, 50, 500])
    assert a != b
    assert a.difference(b) == 'group sizes [1, 1, 1] vs [2, 1]'
    swapped = GroupLayout.from_counts([5, 50]).difference(
        GroupLayout.from_counts([50, 5]))
    assert swapped == ('2 classes are in different groups '
                       '(label 0: group 1 vs 2, label 1: group 2 vs 1)')
    c = GroupLayout.from_counts([5, 50])
    assert '3 classes vs 2 classes' in a.difference(c)


def test_describe_names_sizes_and_ranges():
    text = GroupLayout.from_counts(HAND_COUNTS).describe()
    assert text.startswith('6 classes, 4 foreground groups')
    assert '2 in [0, 10)' in text and '1 in [1000, inf)' in text
    assert '12 logits' in text


def test_group_index_errors():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    with pytest.raises(IndexError, match='groups 0..4'):
        layout.group_columns(5)
    with pytest.raises(ValueError, match='background'):
        layout.classes_in_group(0)


def test_layout_is_not_mutated_through_its_tensors():
    layout = GroupLayout.from_counts(HAND_COUNTS)
    layout.group_of[0] = 4
    layout.class_columns[0] = 0
    assert layout.group_of.tolist() == [1, 2, 3, 4, 1, 2]
    assert layout.class_columns[0] == 3
