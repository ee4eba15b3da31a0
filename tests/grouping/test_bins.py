"""Instance-count bins: the one binning rule, exact."""
import numpy as np
import pytest
import torch

from mmdet_bags.grouping import (bin_interval, bin_intervals, bin_labels,
                                 bin_of_count, bin_sizes, classes_per_bin,
                                 format_interval, validate_bin_edges)

EDGES = (10, 100, 1000)


def test_a_count_equal_to_an_edge_starts_the_next_bin():
    counts = [0, 9, 10, 99, 100, 999, 1000, 10**6]
    assert [bin_of_count(n, EDGES) for n in counts] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_intervals_labels_and_one_interval():
    assert bin_intervals(EDGES) == [(0, 10), (10, 100), (100, 1000),
                                    (1000, None)]
    assert bin_labels(EDGES) == ['[0, 10)', '[10, 100)', '[100, 1000)',
                                 '[1000, inf)']
    assert bin_labels((5, )) == ['[0, 5)', '[5, inf)']
    assert bin_interval(1, EDGES) == (10, 100)
    assert bin_interval(3, EDGES) == (1000, None)
    assert format_interval(2, 19) == '[2, 19)'
    assert format_interval(193, None) == '[193, inf)'
    with pytest.raises(IndexError, match='bin 4 does not exist'):
        bin_interval(4, EDGES)


def test_classes_per_bin_keeps_empty_bins():
    # label:  0   1    2  3   4
    counts = [5, 500, 3, 50, 7]
    assert classes_per_bin(counts, EDGES) == [[0, 2, 4], [3], [1], []]
    assert bin_sizes(counts, EDGES) == (3, 1, 1, 0)
    assert bin_sizes(np.array(counts), EDGES) == (3, 1, 1, 0)


@pytest.mark.parametrize('edges', [(10, 100, 1000), [1], torch.tensor([2, 5]),
                                   np.array([3, 4])])
def test_valid_edges_come_back_as_a_tuple_of_ints(edges):
    checked = validate_bin_edges(edges)
    assert isinstance(checked, tuple)
    assert all(type(edge) is int for edge in checked)


@pytest.mark.parametrize('edges, message', [
    ((), 'at least one edge'),
    ((10, 10), 'strictly ascending'),
    ((100, 10), 'strictly ascending'),
    ((0, 10), 'positive integers'),
    ((1.5, ), 'positive integers'),
    ((True, ), 'positive integers'),
    ('10', 'sequence of positive integers'),
    (10, 'sequence of positive integers'),
])
def test_bad_edges_are_refused_naming_them(edges, message):
    with pytest.raises(ValueError, match=message):
        validate_bin_edges(edges)
