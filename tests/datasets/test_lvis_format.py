"""LVISFormatDataset: an LVIS v1-format file with its own categories."""
import json

import pytest
from mmdet.registry import DATASETS

from detection_helpers import write_small_lvis_file


def build(ann_file, **kwargs):
    return DATASETS.build(dict(type='LVISFormatDataset', ann_file=ann_file,
                               data_prefix=dict(img=''), pipeline=[],
                               **kwargs))


def test_class_names_match_the_labels(tmp_path):
    ann_file = tmp_path / 'train.json'
    content = write_small_lvis_file(ann_file)
    # Reverse the category order in the file: LVISV1Dataset labels follow
    # the file order (cup = 0), and so must the names.
    content['categories'] = content['categories'][::-1]
    ann_file.write_text(json.dumps(content))
    dataset = build(str(ann_file))
    assert dataset.metainfo['classes'] == ('cup', 'ball', 'apple')
    assert len(dataset) == 2
    names = {1: 'apple', 2: 'ball', 3: 'cup'}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        image_annotations = [a for a in content['annotations']
                             if a['image_id'] == info['img_id']]
        labels = sorted(dataset.metainfo['classes'][i['bbox_label']]
                        for i in info['instances'])
        assert labels == sorted(names[a['category_id']]
                                for a in image_annotations)


def test_given_classes_are_kept(tmp_path):
    ann_file = tmp_path / 'train.json'
    write_small_lvis_file(ann_file)
    dataset = build(str(ann_file), metainfo=dict(classes=('a', 'b', 'c')))
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match='nothing.json'):
        build(str(tmp_path / 'nothing.json'))
