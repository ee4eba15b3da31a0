"""The COCO-LT-style subset builder: targets, selection rules, determinism,
the command-line tool."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmdet_bags.datasets.coco_lt import (COCO_LT_BIN_EDGES, build_coco_lt,
                                         long_tail_targets)

TOOL = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / \
    'build_coco_lt.py'


def balanced_coco(num_images=3000, num_categories=20, seed=0):
    """Images with 1-6 objects of one uniformly drawn category and, in a
    third of them, one object of another (ids 10, 20, ...): no long tail to
    start with."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for index in range(num_images):
        images.append(dict(id=index + 1, file_name=f'{index}.jpg',
                           height=64, width=64))
        main = rng.integers(0, num_categories)
        objects = [main] * rng.integers(1, 7)
        if rng.random() < 1 / 3:
            objects.append(rng.integers(0, num_categories))
        for category in objects:
            annotations.append(dict(
                id=len(annotations) + 1, image_id=index + 1,
                category_id=10 * (int(category) + 1), bbox=[1, 2, 10, 10],
                area=100.0, iscrowd=0))
    categories = [dict(id=10 * (c + 1), name=f'cat{c}')
                  for c in range(num_categories)]
    return dict(info=dict(description='test'), licenses=[], images=images,
                annotations=annotations, categories=categories)


def test_targets_fall_log_linearly_from_head_to_tail():
    counts = {1: 1000, 2: 900, 3: 800, 4: 50}
    assert long_tail_targets(counts) == {1: 1000, 2: 100, 3: 10, 4: 1}
    # Capped by what a category has; ties ranked by id.
    assert long_tail_targets({5: 10, 6: 10, 7: 10}, head_count=100) == \
        {5: 10, 6: 10, 7: 1}
    with pytest.raises(ValueError, match='at least 2 categories'):
        long_tail_targets({1: 5})
    with pytest.raises(ValueError, match='tail_count'):
        long_tail_targets({1: 5, 2: 3}, tail_count=10)


def test_subset_is_long_tailed_whole_images_and_within_targets():
    coco = balanced_coco()
    result = build_coco_lt(coco, seed=0)
    info = result['info']['coco_lt']
    selected_ids = {image['id'] for image in result['images']}
    # Whole images: every annotation of a selected image is kept.
    assert result['annotations'] == [a for a in coco['annotations']
                                     if a['image_id'] in selected_ids]
    counts = {c['id']: 0 for c in coco['categories']}
    for annotation in result['annotations']:
        counts[annotation['category_id']] += 1
    for category in info['categories']:
        assert category['selected'] == counts[category['id']]
        assert category['selected'] >= 1
    targets = sorted((c['target'] for c in info['categories']), reverse=True)
    assert targets[0] == max(c['source'] for c in info['categories'])
    assert targets[-1] == 1
    # The rarer half stays at its targets (nothing pushes it above); only
    # categories brought in by images of rarer ones may overshoot.
    ranked = sorted(info['categories'], key=lambda c: c['target'])
    for category in ranked[:10]:
        assert category['selected'] <= max(category['target'], 6)
    selected = sorted((c['selected'] for c in info['categories']))
    assert selected[-1] / selected[0] >= 100  # a long tail
    assert result['categories'] == coco['categories']
    assert result['info']['description'] == 'test'


def test_same_seed_same_subset_other_seed_other_subset():
    coco = balanced_coco(num_images=800)
    first = build_coco_lt(coco, seed=3, head_count=500)
    assert first == build_coco_lt(coco, seed=3, head_count=500)
    other = build_coco_lt(coco, seed=4, head_count=500)
    assert [i['id'] for i in first['images']] != \
        [i['id'] for i in other['images']]


def test_bad_input_is_named():
    coco = balanced_coco(num_images=10)
    coco['annotations'][0]['category_id'] = 999
    with pytest.raises(ValueError, match='category 999'):
        build_coco_lt(coco)
    with pytest.raises(ValueError, match='"images" list'):
        build_coco_lt(dict(annotations=[], categories=[]))


def test_tool_writes_the_subset_and_refuses_to_overwrite(tmp_path):
    source = tmp_path / 'train.json'
    source.write_text(json.dumps(balanced_coco(num_images=600)))
    out = tmp_path / 'annotations' / 'train_coco-lt.json'
    command = [sys.executable, str(TOOL), str(source), str(out), '--seed',
               '1', '--head-count', '400']
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'categories per bin: [0, 20)' in result.stdout
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(build_coco_lt(
        json.loads(source.read_text()), seed=1, head_count=400)))
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 2 and 'exists' in again.stderr
    missing = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / 'nope.json'),
         str(tmp_path / 'x.json')], capture_output=True, text=True)
    assert missing.returncode == 2 and 'not found' in missing.stderr


def test_coco_lt_bins():
    assert COCO_LT_BIN_EDGES == (20, 400, 8000)
