"""The synthetic long-tail LVIS v1-format dataset generator.

A very small set is generated once per module (well under a second); the
real presets are checked through their plans, which draw nothing.
"""
import importlib.util
import json
import os.path as osp
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmdet_bags.datasets import (COLOURS, LVIS_BIN_EDGES, PRESETS,
                                 class_catalogue, generate_longtail_lvis,
                                 lvis_frequency, lvis_v1_instance_counts,
                                 pick_long_tail_counts,
                                 plan_long_tail_dataset, render_image,
                                 rescale_counts, resolve_settings,
                                 scaled_bin_edges)
from mmdet_bags.grouping import bin_sizes

TOOL = (Path(__file__).parents[2] / 'tools' / 'dataset_converters' /
        'generate_longtail_lvis.py')

# A very small set: seconds to generate, still a long tail.
SMALL = dict(num_classes=12, num_train_images=40, num_val_images=16,
             image_size=96, objects_per_image=(3, 7),
             min_val_instances_per_class=3, num_neg_categories=4)


def generate(out_dir, seed=0, **overrides):
    return generate_longtail_lvis(str(out_dir), 'tiny', seed=seed,
                                  progress=False, **dict(SMALL, **overrides))


def load_json(path):
    with open(path) as file:
        return json.load(file)


def load_tool():
    spec = importlib.util.spec_from_file_location('generate_longtail_tool',
                                                  TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    result = generate(tmp_path_factory.mktemp('longtail') / 'set')
    return dict(result, train=load_json(result['train_ann_file']),
                val=load_json(result['val_ann_file']))


# ------------------------------------------------------------ file format
def test_files_load_with_the_lvis_api(dataset):
    from lvis import LVIS
    for split in ('train', 'val'):
        lvis = LVIS(dataset[f'{split}_ann_file'])
        assert sorted(lvis.get_cat_ids()) == list(range(1, 13))
        assert len(lvis.get_img_ids()) == SMALL[f'num_{split}_images']
        annotation = lvis.load_anns(lvis.get_ann_ids()[:1])[0]
        assert lvis.ann_to_mask(annotation).sum() == annotation['area']
        for image in lvis.load_imgs(None):
            assert image['coco_url'] == ('http://images.cocodataset.org/'
                                         f'{split}2017/{image["id"]:012d}.jpg')
            assert image['file_name'] == f'{image["id"]:012d}.jpg'
            assert image['height'] == image['width'] == 96
            assert isinstance(image['not_exhaustive_category_ids'], list)
            present = {a['category_id'] for a in lvis.img_ann_map[image['id']]}
            negatives = image['neg_category_ids']
            # Verified absent: never a category of the image.
            assert negatives == sorted(negatives) and len(negatives) == 4
            assert not present & set(negatives)
        assert all(a['iscrowd'] == 0 for a in lvis.load_anns())


def test_files_load_with_mmdet_lvis_v1_dataset(dataset):
    from mmdet.datasets import LVISV1Dataset
    for split in ('train', 'val'):
        mmdet_set = LVISV1Dataset(
            data_root=dataset['data_root'],
            ann_file=f'annotations/lvis_v1_{split}.json',
            data_prefix=dict(img=''),
            metainfo=dict(classes=tuple(dataset['class_names'])),
            pipeline=[], test_mode=False)
        mmdet_set.full_init()
        content = dataset[split]
        assert len(mmdet_set) == len(content['images'])
        assert mmdet_set.metainfo['classes'] == tuple(
            c['name'] for c in content['categories'])
        num_instances = 0
        for index in range(len(mmdet_set)):
            info = mmdet_set.get_data_info(index)
            assert info['img_path'] == osp.join(
                dataset['data_root'], f'{split}2017',
                f'{info["img_id"]:012d}.jpg')
            assert osp.isfile(info['img_path'])
            for instance in info['instances']:
                x1, y1, x2, y2 = instance['bbox']
                assert 0 <= x1 < x2 <= 96 and 0 <= y1 < y2 <= 96
                assert 0 <= instance['bbox_label'] < 12
            num_instances += len(info['instances'])
        # No annotation is filtered out by MMDetection.
        assert num_instances == len(content['annotations'])


def test_mmdet_pipeline_decodes_the_masks(dataset):
    from mmdet.datasets import LVISV1Dataset
    mmdet_set = LVISV1Dataset(
        data_root=dataset['data_root'],
        ann_file='annotations/lvis_v1_train.json', data_prefix=dict(img=''),
        metainfo=dict(classes=tuple(dataset['class_names'])),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True,
                       with_mask=True)])
    sample = mmdet_set[0]
    assert sample['img'].shape == (96, 96, 3)
    masks = sample['gt_masks'].masks
    boxes = sample['gt_bboxes'].tensor.numpy()
    assert len(masks) == len(boxes) > 0
    assert not sample['gt_ignore_flags'].any()
    for mask, (x1, y1, x2, y2) in zip(masks, boxes):
        rows, cols = np.nonzero(mask)
        assert (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1) == (
            x1, y1, x2, y2)


def test_lvis_eval_of_perfect_detections_is_one(dataset):
    """Frequencies, negatives and masks are what LVISEval expects."""
    from lvis import LVIS, LVISEval
    gt = LVIS(dataset['val_ann_file'])
    detections = [dict(image_id=a['image_id'], category_id=a['category_id'],
                       bbox=a['bbox'], segmentation=a['segmentation'],
                       score=1.0) for a in dataset['val']['annotations']]
    for iou_type in ('bbox', 'segm'):
        evaluator = LVISEval(gt, [dict(d) for d in detections], iou_type)
        evaluator.run()
        results = evaluator.get_results()
        assert results['AP'] == pytest.approx(1.0)
        for letter in 'rcf':
            # -1: no category of that frequency in this small set.
            assert results[f'AP{letter}'] in (pytest.approx(1.0), -1)


def test_info_records_edges_seed_and_settings(dataset):
    for split in ('train', 'val'):
        info = dataset[split]['info']
        assert info['split'] == split
        assert info['seed'] == 0 and info['preset'] == 'tiny'
        assert tuple(info['bags_bin_edges']) == dataset['bin_edges']
        assert info['scale_factor'] == dataset['scale_factor']
        assert info['generator']['settings']['num_classes'] == 12
        assert info['dropped_instances'] == 0
    assert dataset['bin_edges'] == scaled_bin_edges(dataset['scale_factor'])


# -------------------------------------------------------------- statistics
def test_category_counts_and_frequencies_come_from_the_train_split(dataset):
    train = dataset['train']
    instances = Counter(a['category_id'] for a in train['annotations'])
    images = defaultdict(set)
    for annotation in train['annotations']:
        images[annotation['category_id']].add(annotation['image_id'])
    for category in train['categories']:
        assert category['instance_count'] == instances[category['id']] >= 1
        assert category['image_count'] == len(images[category['id']])
        assert category['frequency'] == lvis_frequency(
            category['image_count'])
        assert set(category) >= {'synset', 'synonyms', 'def', 'name'}
    # Both splits carry the training statistics, as LVIS does.
    assert dataset['val']['categories'] == train['categories']
    assert dataset['instance_counts'] == [
        c['instance_count'] for c in train['categories']]


def test_lvis_frequency_thresholds():
    assert [lvis_frequency(n) for n in (1, 10, 11, 100, 101, 5000)] == [
        'r', 'r', 'c', 'c', 'f', 'f']


def test_masks_are_exact_and_match_boxes_and_areas(dataset):
    for split in ('train', 'val'):
        content = dataset[split]
        union = {}
        for annotation in content['annotations']:
            mask = mask_utils.decode(annotation['segmentation']).astype(bool)
            assert mask.sum() == annotation['area'] > 0
            rows, cols = np.nonzero(mask)
            x, y = int(cols.min()), int(rows.min())
            assert annotation['bbox'] == [x, y, int(cols.max()) - x + 1,
                                          int(rows.max()) - y + 1]
            # Visible parts of different objects never overlap.
            seen = union.setdefault(annotation['image_id'],
                                    np.zeros_like(mask))
            assert not (seen & mask).any()
            seen |= mask


def test_val_has_the_promised_instances_of_every_class(dataset):
    counts = Counter(a['category_id'] for a in dataset['val']['annotations'])
    assert all(counts[category_id] >= SMALL['min_val_instances_per_class']
               for category_id in range(1, 13))


# ------------------------------------------------------ reproducibility
def test_same_seed_same_bytes_different_seed_different(dataset, tmp_path):
    again = generate(tmp_path / 'again')
    for key in ('train_ann_file', 'val_ann_file'):
        assert Path(again[key]).read_bytes() == Path(
            dataset[key]).read_bytes()
    for folder in ('train_img_dir', 'val_img_dir'):
        names = sorted(p.name for p in Path(dataset[folder]).iterdir())
        assert names == sorted(p.name for p in Path(again[folder]).iterdir())
        for name in names:
            assert (Path(again[folder]) / name).read_bytes() == (
                Path(dataset[folder]) / name).read_bytes()
    other = generate(tmp_path / 'other', seed=1)
    assert Path(other['train_ann_file']).read_bytes() != Path(
        dataset['train_ann_file']).read_bytes()


# SHA-256 of the files generate() writes, made by the generator before it
# became the synthetic/ subpackage: the same settings and seed must keep
# giving these bytes. numpy does not promise the same random streams across
# versions (nor OpenCV the same drawing), so the digests are pinned for the
# versions of requirements/constraints.txt.
PINNED_VERSIONS = dict(numpy='2.4.6', cv2='5.0.0')
PINNED_DIGESTS = {
    'train_ann_file':
    '72f78847ebaf0e072d301018c50f8468334c61b4fd29e89a9aef60154c1b37b8',
    'val_ann_file':
    'c6f25e11064127bac23b776111827d084cab263fa13d974f1db6be291d81fdf2',
    'train_img_dir':
    'ac465b09462c8bcf4dfbd5fb9e1c1620728885ef9bdafcd0efe74368840a54e6',
    'val_img_dir':
    'defe41c7db4c99d4603d837b2a98b6acf7199113934f97ec100bdaf8d48e3531',
}


def test_output_bytes_are_pinned(dataset):
    import hashlib

    import cv2
    installed = dict(numpy=np.__version__, cv2=cv2.__version__)
    if installed != PINNED_VERSIONS:
        pytest.skip(f'digests pinned for {PINNED_VERSIONS}, have {installed}')
    digests = {}
    for key in ('train_ann_file', 'val_ann_file'):
        digests[key] = hashlib.sha256(
            Path(dataset[key]).read_bytes()).hexdigest()
    for key in ('train_img_dir', 'val_img_dir'):
        digest = hashlib.sha256()
        for path in sorted(Path(dataset[key]).iterdir()):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        digests[key] = digest.hexdigest()
    assert digests == PINNED_DIGESTS


def test_existing_output_is_reused_unless_forced(tmp_path, capsys):
    out = tmp_path / 'set'
    arguments = ['--out', str(out), '--no-progress', '--num-classes', '8',
                 '--num-train-images', '12', '--num-val-images', '6',
                 '--image-size', '80', '--objects-per-image', '2', '4',
                 '--min-val-instances', '2']
    tool = load_tool()
    assert tool.main(arguments) == 0
    assert 'generated in' in capsys.readouterr().out
    train_file = out / 'annotations' / 'lvis_v1_train.json'
    first = train_file.read_bytes()
    assert tool.main(arguments) == 0
    printed = capsys.readouterr().out
    assert 'reused the existing dataset' in printed
    assert str(train_file) in printed
    assert tool.main(arguments + ['--force']) == 0
    assert 'generated in' in capsys.readouterr().out
    assert train_file.read_bytes() == first
    # Other settings: regenerated, not reused.
    assert tool.main(arguments + ['--seed', '3']) == 0
    assert 'reused the existing' not in capsys.readouterr().out
    assert train_file.read_bytes() != first


def test_tool_plan_only_draws_nothing(tmp_path, capsys):
    assert load_tool().main(['--plan-only', '--out', str(tmp_path / 'x')]) \
        == 0
    printed = capsys.readouterr().out
    assert 'scaled BAGS bin edges' in printed
    assert not (tmp_path / 'x').exists()


# --------------------------------------------------------------- long tail
def test_picked_counts_keep_the_lvis_tail():
    lvis = lvis_v1_instance_counts()
    assert len(lvis) == 1203 and np.all(np.diff(lvis) <= 0)
    picked = pick_long_tail_counts(32)
    assert len(picked) == 32 and np.all(np.diff(picked) <= 0)
    assert set(picked.tolist()) <= set(lvis.tolist())
    # Middle ranks of 32 equal rank segments of the 1203 classes.
    assert picked[0] == lvis[18] and picked[-1] == lvis[1184]


def test_rescale_counts_is_exact_and_keeps_the_order():
    source = pick_long_tail_counts(32)
    counts, scale = rescale_counts(source, 5000)
    assert counts.sum() == 5000 and counts.min() >= 1
    assert np.all(np.diff(counts) <= 0)
    assert scale == pytest.approx(5000 / source.sum())
    assert np.all(np.abs(counts - source * scale) <= 1.0)
    # Far fewer instances than needed by the tail: the floor of 1 holds.
    counts, _ = rescale_counts(source, 40)
    assert counts.sum() == 40 and counts.min() == 1
    with pytest.raises(ValueError, match='one instance'):
        rescale_counts(source, 31)


def test_scaled_bin_edges():
    from mmdet_bags.grouping import DEFAULT_BIN_EDGES
    assert LVIS_BIN_EDGES == DEFAULT_BIN_EDGES
    assert scaled_bin_edges(1.0) == (10, 100, 1000)
    assert scaled_bin_edges(0.1931) == (2, 19, 193)
    assert scaled_bin_edges(0.25) == (3, 25, 250)  # half rounds up
    # Tiny factors still give valid, strictly increasing edges.
    assert scaled_bin_edges(0.01) == (1, 2, 10)
    assert scaled_bin_edges(1e-6) == (1, 2, 3)
    with pytest.raises(ValueError):
        scaled_bin_edges(0)


@pytest.mark.parametrize('preset', sorted(PRESETS))
def test_presets_populate_every_bin_and_frequency(preset):
    from mmdet_bags.grouping import GroupLayout
    settings = resolve_settings(preset)
    plan = plan_long_tail_dataset(settings, seed=0)
    counts = plan.train_instance_counts
    # In rank order of the picked LVIS counts, counts never increase.
    by_rank = np.argsort(-plan.lvis_counts, kind='stable')
    assert np.all(np.diff(counts[by_rank]) <= 0)
    assert counts.min() >= 1
    assert counts.sum() == sum(len(objects)
                               for objects in plan.train.category_ids)
    assert np.array_equal(counts, plan.train.instance_counts(len(counts)))
    assert plan.bin_edges == scaled_bin_edges(plan.scale_factor)
    # All four scaled bins hold classes: BAGS gets 4 groups (+ background).
    assert len(plan.group_sizes) == 4 and min(plan.group_sizes) > 0
    layout = GroupLayout.from_counts(counts.tolist(), plan.bin_edges)
    assert layout.group_sizes == plan.group_sizes
    # LVIS definition of r/c/f on training image counts; all three present.
    assert all(plan.frequency_counts[letter] > 0 for letter in 'rcf')
    assert plan.frequencies == [lvis_frequency(n)
                                for n in plan.train_image_counts]
    val_counts = plan.val.instance_counts(settings.num_classes)
    assert val_counts.min() >= settings.min_val_instances_per_class
    if preset == 'tiny':
        assert 24 <= settings.num_classes <= 32
        assert plan.bin_edges == (2, 19, 193)
        assert plan.group_sizes == (4, 12, 9, 7)
        assert plan.frequency_counts == dict(r=13, c=10, f=9)
    else:
        assert settings.num_classes >= 100
        assert settings.num_train_images >= 2000


def test_plan_does_not_depend_on_how_often_it_is_made():
    first = plan_long_tail_dataset(resolve_settings('tiny'), seed=5)
    second = plan_long_tail_dataset(resolve_settings('tiny'), seed=5)
    assert first.train.category_ids == second.train.category_ids
    assert first.val.neg_category_ids == second.val.neg_category_ids
    other = plan_long_tail_dataset(resolve_settings('tiny'), seed=6)
    assert not np.array_equal(other.train_instance_counts,
                              first.train_instance_counts)


def test_bin_sizes_use_right_open_bins():
    assert bin_sizes([1, 2, 18, 19, 192, 193], (2, 19, 193)) == (1, 2, 2, 1)


# ---------------------------------------------------------------- classes
def test_class_catalogue_is_distinct_sorted_and_seed_free():
    classes = class_catalogue(32)
    names = [appearance.name for appearance in classes]
    assert names == sorted(names) and len(set(names)) == 32
    # Every colour and texture, and every shape, appears in a 32-class set.
    assert {c.colour for c in classes} == set(COLOURS)
    assert len({c.texture for c in classes}) == 4
    assert len({c.shape for c in classes}) == 10
    plans = [plan_long_tail_dataset(resolve_settings('tiny'), seed)
             for seed in (0, 1)]
    assert plans[0].class_names == plans[1].class_names == names


def test_objects_show_their_class_colour():
    classes = class_catalogue(12)
    solid = [k for k, c in enumerate(classes, 1) if c.texture == 'solid']
    settings = resolve_settings('tiny', **SMALL)
    image, instances, dropped = render_image(
        classes, solid * 2, settings, np.random.default_rng(0))
    assert not dropped and len(instances) == 2 * len(solid)
    for instance in instances:
        colour = COLOURS[classes[instance['category_id'] - 1].colour]
        median = np.median(image[instance['mask']], axis=0)
        # Lighting jitter (+-10 %) and noise only.
        assert np.all(np.abs(median - np.array(colour)) <= 30), (median,
                                                                 colour)


# ---------------------------------------------------------------- settings
def test_settings_are_checked():
    with pytest.raises(ValueError, match='validation images'):
        plan_long_tail_dataset(resolve_settings(
            'tiny', num_val_images=2, min_val_instances_per_class=50))
    with pytest.raises(ValueError, match='fewer than the'):
        plan_long_tail_dataset(resolve_settings(
            'tiny', num_train_images=2, objects_per_image=(1, 2)))
    with pytest.raises(ValueError, match='unknown setting'):
        resolve_settings('tiny', num_clases=3)
    with pytest.raises(ValueError, match='unknown preset'):
        resolve_settings('huge')
    with pytest.raises(ValueError, match='num_classes'):
        resolve_settings('tiny', num_classes=10_000)
