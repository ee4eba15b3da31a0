"""Sources of instance counts: built-in LVIS tables and annotation files."""
import json

import pytest

from mmdet_bags.grouping import (build_group_layout, check_class_names,
                                 count_instances_in_annotation_file,
                                 load_builtin_table)


def write_json(path, content):
    path.write_text(json.dumps(content))
    return str(path)


def coco_file(tmp_path, categories, category_of_each_annotation, **extra):
    annotations = [
        dict(id=i, image_id=1, category_id=category_id, bbox=[0, 0, 2, 2],
             area=4, iscrowd=0, segmentation=[[0, 0, 2, 0, 2, 2]])
        for i, category_id in enumerate(category_of_each_annotation, 1)
    ]
    content = dict(images=[dict(id=1, width=8, height=8, file_name='a.jpg')],
                   annotations=annotations, categories=categories, **extra)
    return write_json(tmp_path / 'train.json', content)


CATEGORIES = [dict(id=7, name='cat'), dict(id=2, name='dog'),
              dict(id=30, name='emu')]


def test_labels_follow_the_file_category_order_like_mmdet(tmp_path):
    """Same label for every category as MMDetection's own datasets give."""
    from mmdet.datasets.api_wrappers import COCO
    from lvis import LVIS
    path = coco_file(tmp_path, CATEGORIES, [7, 7, 2, 7])
    table = count_instances_in_annotation_file(path)
    # File order: 7 (cat), 2 (dog), 30 (emu, no annotation -> 0).
    assert table.names == ('cat', 'dog', 'emu')
    assert table.category_ids == (7, 2, 30)
    assert table.instance_counts == (3, 1, 0)
    assert table.frequencies is None
    assert list(table.category_ids) == COCO(path).get_cat_ids()
    assert list(table.category_ids) == LVIS(path).get_cat_ids()
    layout = table.layout((2, ))
    assert layout.group_of.tolist() == [2, 1, 1]


def test_given_class_names_filter_like_coco_dataset(tmp_path):
    """Like CocoDataset with metainfo classes: unlisted categories are left
    out and labels keep the file order."""
    from mmdet.datasets.api_wrappers import COCO
    path = coco_file(tmp_path, CATEGORIES, [7, 7, 2, 30])
    classes = ('emu', 'cat')
    table = count_instances_in_annotation_file(path, classes=classes)
    assert table.names == ('cat', 'emu')
    assert table.instance_counts == (2, 1)
    assert list(table.category_ids) == COCO(path).get_cat_ids(
        cat_names=classes)


def test_lvis_frequencies_are_kept(tmp_path):
    categories = [dict(id=1, name='a', frequency='r'),
                  dict(id=2, name='b', frequency='f')]
    path = coco_file(tmp_path, categories, [2, 2, 1])
    table = count_instances_in_annotation_file(path)
    assert table.frequencies == ('r', 'f')


def test_build_group_layout_from_annotation_file(tmp_path):
    path = coco_file(tmp_path, CATEGORIES, [7] * 12 + [2] * 3)
    layout = build_group_layout(dict(ann_file=path, bin_edges=(5, 10)))
    assert layout.instance_counts == (12, 3, 0)  # cat, dog, emu
    assert layout.group_of.tolist() == [2, 1, 1]


def test_build_group_layout_from_counts_and_edges():
    layout = build_group_layout(dict(instance_counts=[1, 50, 500],
                                     bin_edges=[100]))
    assert layout.group_sizes == (2, 1)


@pytest.mark.parametrize('groups, match', [
    ('lvis_v2', "unknown built-in groups 'lvis_v2'"),
    (dict(file='x.json'), 'groups must be'),
    (dict(instance_counts=[1], ann_file='x'), 'groups must be'),
    (42, 'groups must be'),
])
def test_unknown_group_specs_are_refused(groups, match):
    with pytest.raises(ValueError, match=match):
        build_group_layout(groups)


def test_conflicting_bin_edges_are_refused():
    with pytest.raises(ValueError, match='bin_edges given twice'):
        build_group_layout(dict(instance_counts=[1, 2], bin_edges=[10]),
                           bin_edges=[100])


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        count_instances_in_annotation_file(tmp_path / 'nowhere.json')


def test_not_json(tmp_path):
    path = tmp_path / 'train.json'
    path.write_text('{"categories": [')
    with pytest.raises(ValueError, match='not valid JSON'):
        count_instances_in_annotation_file(path)


@pytest.mark.parametrize('content, match', [
    (dict(annotations=[]), r'no "categories" list'),
    (dict(categories=[dict(id=1, name='a')]), r'no "annotations" list'),
    (dict(categories=[], annotations=[]), 'empty "categories"'),
    ([1, 2], 'JSON object'),
    (dict(categories=[dict(id=1, name='a')], annotations=[dict(id=1)]),
     'category_id'),
])
def test_malformed_files(tmp_path, content, match):
    path = write_json(tmp_path / 'bad.json', content)
    with pytest.raises(ValueError, match=match):
        count_instances_in_annotation_file(path)


def test_annotation_with_unknown_category(tmp_path):
    path = coco_file(tmp_path, CATEGORIES, [7, 99, 99])
    with pytest.raises(ValueError, match=r'category ids \[99\].*2 annotations'):
        count_instances_in_annotation_file(path)


def test_requested_class_missing_from_file(tmp_path):
    path = coco_file(tmp_path, CATEGORIES, [7])
    with pytest.raises(ValueError, match="no category named \\['yak'\\]"):
        count_instances_in_annotation_file(path, classes=('cat', 'yak'))


@pytest.mark.parametrize('name, dataset, size', [
    ('lvis_v1', 'LVISV1Dataset', 1203),
    ('lvis_v0.5', 'LVISV05Dataset', 1230),
])
def test_builtin_tables_match_mmdet_class_order(name, dataset, size):
    import mmdet.datasets
    classes = getattr(mmdet.datasets, dataset).METAINFO['classes']
    table = load_builtin_table(name)
    assert len(table.names) == len(classes) == size
    check_class_names(table, classes)  # raises on any mismatch
    # One name is spelled differently by MMDetection and LVIS.
    differing = [i for i, (a, b) in enumerate(zip(table.names, classes))
                 if a != b]
    assert [table.names[i] for i in differing] == \
        ['speaker_(stero_equipment)']
    assert table.category_ids == tuple(sorted(table.category_ids))


def test_builtin_v1_counts_are_the_lvis_counts():
    table = load_builtin_table('lvis_v1')
    by_name = dict(zip(table.names, table.instance_counts))
    assert by_name['aerosol_can'] == 109
    assert by_name['air_conditioner'] == 1081
    assert set(table.frequencies) == {'r', 'c', 'f'}


def test_builtin_with_wrong_dataset_classes_is_refused():
    table = load_builtin_table('lvis_v1')
    classes = list(table.names)
    classes[10], classes[11] = classes[11], classes[10]
    with pytest.raises(ValueError, match='do not match.*another order, 2 '
                       "labels differ: label 10 is"):
        build_group_layout('lvis_v1', classes=classes)
    with pytest.raises(ValueError, match="1203 classes in built-in table "
                       "'lvis_v1' but 3 in the dataset"):
        build_group_layout('lvis_v1', classes=('a', 'b', 'c'))


def test_lvis_annotation_file_matches_names_across_the_alias(tmp_path):
    """Counting an LVIS file with MMDetection's class names works although
    one name is spelled differently."""
    categories = [dict(id=1, name='speaker_(stero_equipment)', frequency='c'),
                  dict(id=2, name='apple', frequency='f')]
    path = coco_file(tmp_path, categories, [1, 2, 2])
    table = count_instances_in_annotation_file(
        path, classes=('apple', 'speaker_(stereo_equipment)'))
    assert table.instance_counts == (1, 2)  # file order: speaker, apple


def test_large_file_is_counted_without_a_second_copy(tmp_path):
    """Peak memory stays near the file's size, far below a plain json.load
    (which keeps every polygon); scaled down from LVIS v1's ~1 GB."""
    import tracemalloc
    num_annotations = 20000
    polygon = [[float(v) + 0.25 for v in range(60)]]
    path = tmp_path / 'big.json'
    with open(path, 'w') as file:
        file.write('{"categories": [')
        file.write(','.join(json.dumps(dict(id=i, name=f'c{i}'))
                            for i in range(1, 101)))
        file.write('], "images": [], "annotations": [')
        file.write(','.join(
            json.dumps(dict(id=i, image_id=i, category_id=i % 100 + 1,
                            bbox=[1, 2, 3, 4], area=12.0,
                            segmentation=polygon))
            for i in range(num_annotations)))
        file.write(']}')
    size = path.stat().st_size

    def peak_of(function):
        tracemalloc.start()
        try:
            result = function()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    table, ours = peak_of(lambda: count_instances_in_annotation_file(path))
    assert sum(table.instance_counts) == num_annotations

    def plain_load():
        with open(path) as file:
            return len(json.load(file)['annotations'])

    _, plain = peak_of(plain_load)
    print(f"peak {ours} B streaming vs {plain} B json.load, file {size} B")
    assert ours < 8 * 2**20, (ours, size)  # a few chunks, whatever the size
    assert ours < plain / 5, (ours, plain)


def test_a_json_path_alone_means_that_annotation_file(tmp_path):
    path = coco_file(tmp_path, CATEGORIES, [7] * 12 + [2] * 3)
    layout = build_group_layout(path, bin_edges=(5, 10))
    assert layout == build_group_layout(dict(ann_file=path, bin_edges=(5, 10)))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        build_group_layout(str(tmp_path / 'missing.json'))
