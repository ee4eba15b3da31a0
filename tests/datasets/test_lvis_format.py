"""LVISFormatDataset: an LVIS v1-format file with its own categories."""
import json

import pytest
from mmdet.registry import DATASETS

from detection_helpers import write_small_lvis_file


def build(ann_file, **kwargs):
    return DATASETS.build(dict(type='LVISFormatDataset', ann_file=ann_file,
                               data_prefix=dict(img=''), pipeline=[],
                               **kwargs))


def test_classes_come_from_the_file_in_id_order(tmp_path):
    ann_file = tmp_path / 'train.json'
    content = write_small_lvis_file(ann_file)
    # Shuffle the category order in the file: labels follow ids regardless.
    content['categories'] = content['categories'][::-1]
    ann_file.write_text(json.dumps(content))
    dataset = build(str(ann_file))
    assert dataset.metainfo['classes'] == ('apple', 'ball', 'cup')
    assert len(dataset) == 2
    labels = sorted(instance['bbox_label'] for index in range(len(dataset))
                    for instance in dataset.get_data_info(index)['instances'])
    assert labels == [0, 1, 1, 2, 2]


def test_given_classes_are_kept(tmp_path):
    ann_file = tmp_path / 'train.json'
    write_small_lvis_file(ann_file)
    dataset = build(str(ann_file), metainfo=dict(classes=('a', 'b', 'c')))
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match='nothing.json'):
        build(str(tmp_path / 'nothing.json'))
