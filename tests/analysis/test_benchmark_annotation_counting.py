"""The annotation-counting benchmark compares parsers that agree."""
import json

import pytest

from mmdet_bags.analysis.benchmark_annotation_counting import (
    PARSERS, count_with_ijson, measure_here)
from mmdet_bags.grouping import count_instances_in_annotation_file


@pytest.fixture
def ann_file(tmp_path):
    path = tmp_path / 'train.json'
    polygon = [[0.5, 1.25, 3.0, 1.0, 2.0, 4.75]]
    path.write_text(json.dumps(dict(
        images=[dict(id=1)],
        annotations=[dict(id=i, category_id=c, segmentation=polygon)
                     for i, c in enumerate([7, 7, 2, 7, 30], 1)],
        categories=[dict(id=7, name='cat'), dict(id=2, name='dog'),
                    dict(id=30, name='emu'), dict(id=4, name='yak')])))
    return str(path)


def test_ijson_candidate_counts_what_we_count(ann_file):
    table = count_instances_in_annotation_file(ann_file)
    counts = count_with_ijson(ann_file)
    assert dict(zip(table.category_ids, table.instance_counts)) == \
        dict(counts) == {7: 3, 2: 1, 30: 1, 4: 0}


def test_ijson_candidate_refuses_what_we_refuse(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(dict(categories=[dict(id=1, name='a')],
                                    annotations=[dict(id=1)])))
    with pytest.raises(ValueError, match='category_id'):
        count_instances_in_annotation_file(path)
    with pytest.raises(ValueError, match='category_id'):
        count_with_ijson(str(path))


@pytest.mark.parametrize('parser', list(PARSERS))
def test_every_parser_counts_every_annotation(ann_file, parser):
    result = measure_here(parser, ann_file)
    assert result['annotations'] == 5
    assert result['seconds'] >= 0 and result['peak_rss_above_start_mb'] >= 0


def test_unknown_parser_is_refused(ann_file):
    with pytest.raises(ValueError, match="unknown parser 'yaml'"):
        measure_here('yaml', ann_file)
