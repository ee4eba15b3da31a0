"""Writing a generated set in LVIS v1 format: images, annotation files, and
the reuse of a complete earlier output (see the package doc for the layout
on disk)."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ...grouping.bins import bin_sizes
from ..json_files import write_json
from .long_tail import (COMMON_MAX_IMAGES, LVIS_BIN_EDGES, RARE_MAX_IMAGES,
                        lvis_frequency)
from .plan import LongTailPlan, SplitPlan, plan_long_tail_dataset
from .rendering import encode_mask, render_image
from .settings import resolve_settings

#: Version of what this module writes; part of the settings that decide
#: whether an existing output can be reused.
FORMAT_VERSION = 1

_URL_HOST = 'http://images.cocodataset.org'
TRAIN_JSON = 'lvis_v1_train.json'
VAL_JSON = 'lvis_v1_val.json'


def _category_records(plan: LongTailPlan, image_counts: np.ndarray,
                      instance_counts: np.ndarray) -> List[Dict[str, Any]]:
    records = []
    for category_id, appearance in enumerate(plan.classes, start=1):
        image_count = int(image_counts[category_id - 1])
        records.append({
            'id': category_id,
            'name': appearance.name,
            'synset': f'{appearance.name}.n.01',
            'synonyms': [appearance.name],
            'def': appearance.definition,
            'frequency': lvis_frequency(image_count),
            'image_count': image_count,
            'instance_count': int(instance_counts[category_id - 1]),
        })
    return records


def _settings_record(plan: LongTailPlan) -> Dict[str, Any]:
    """What decides the output; equal records mean identical files."""
    return {'format_version': FORMAT_VERSION, 'seed': plan.seed,
            'settings': plan.settings.to_dict()}


def _render_split(plan: LongTailPlan, split: SplitPlan, out_dir: str,
                  first_annotation_id: int, progress: bool
                  ) -> Tuple[List[dict], List[dict], int]:
    """Draw and save a split's images; returns its LVIS ``images`` and
    ``annotations`` records and the number of dropped instances."""
    image_dir = osp.join(out_dir, split.folder)
    os.makedirs(image_dir, exist_ok=True)
    images, annotations = [], []
    annotation_id = first_annotation_id
    dropped_total = 0
    for index in tqdm(range(len(split.image_ids)), desc=f'{split.name} images',
                      unit='img', disable=not progress):
        # One stream per image: an image does not depend on the others.
        rng = np.random.default_rng([plan.seed, split.stream, index])
        image, instances, dropped = render_image(
            plan.classes, split.category_ids[index], plan.settings, rng)
        dropped_total += len(dropped)
        file_name = split.file_name(index)
        cv2.imwrite(osp.join(image_dir, file_name), image,
                    [cv2.IMWRITE_JPEG_QUALITY, plan.settings.jpeg_quality])
        image_id = split.image_ids[index]
        kept = {instance['category_id'] for instance in instances}
        images.append({
            'id': image_id,
            'coco_url': f'{_URL_HOST}/{split.folder}/{file_name}',
            'file_name': file_name,
            'height': plan.settings.image_size,
            'width': plan.settings.image_size,
            # A dropped instance still shows a little: its class may have
            # unannotated pixels here unless another instance is kept.
            'not_exhaustive_category_ids': sorted(set(dropped) & kept),
            'neg_category_ids': split.neg_category_ids[index],
        })
        for instance in instances:
            annotations.append({
                'id': annotation_id,
                'image_id': image_id,
                'category_id': instance['category_id'],
                'bbox': instance['bbox'],
                'area': instance['area'],
                'segmentation': encode_mask(instance['mask']),
                'iscrowd': 0,
            })
            annotation_id += 1
    return images, annotations, dropped_total


def _counts_from_annotations(annotations: List[dict], num_classes: int
                             ) -> Tuple[np.ndarray, np.ndarray]:
    instance_counts = np.zeros(num_classes, dtype=np.int64)
    images_of = [set() for _ in range(num_classes)]
    for annotation in annotations:
        instance_counts[annotation['category_id'] - 1] += 1
        images_of[annotation['category_id'] - 1].add(annotation['image_id'])
    image_counts = np.array([len(ids) for ids in images_of], dtype=np.int64)
    return instance_counts, image_counts


def _output_paths(out_dir: str) -> Dict[str, str]:
    return {
        'data_root': out_dir,
        'train_ann_file': osp.join(out_dir, 'annotations', TRAIN_JSON),
        'val_ann_file': osp.join(out_dir, 'annotations', VAL_JSON),
        'train_img_dir': osp.join(out_dir, 'train2017'),
        'val_img_dir': osp.join(out_dir, 'val2017'),
    }


def _existing_output(paths: Dict[str, str], plan: LongTailPlan
                     ) -> Optional[Dict[str, Any]]:
    """The train file's content if the output on disk is complete and was
    made from the same settings and seed, else None."""
    if not (osp.isfile(paths['train_ann_file']) and
            osp.isfile(paths['val_ann_file'])):
        return None
    try:
        with open(paths['train_ann_file']) as file:
            train = json.load(file)
    except (OSError, ValueError):
        return None
    if not isinstance(train, dict) or train.get('info', {}).get(
            'generator') != _settings_record(plan):
        return None
    for split in (plan.train, plan.val):
        folder = osp.join(paths['data_root'], split.folder)
        if not all(osp.isfile(osp.join(folder, split.file_name(index)))
                   for index in range(len(split.image_ids))):
            return None
    return train


def _summary(categories: List[Dict[str, Any]],
             bin_edges: Sequence[int]) -> Dict[str, Any]:
    """Training statistics of written categories (sorted by id)."""
    instance_counts = [category['instance_count'] for category in categories]
    frequencies = [category['frequency'] for category in categories]
    return {
        'instance_counts': instance_counts,
        'frequency_counts': {letter: frequencies.count(letter)
                             for letter in 'rcf'},
        'group_sizes': bin_sizes(instance_counts, bin_edges),
    }


def generate_longtail_lvis(out_dir: str, preset: str = 'tiny', seed: int = 0,
                           force: bool = False, progress: bool = True,
                           **overrides) -> Dict[str, Any]:
    """Generate (or reuse) a long-tail LVIS v1-format dataset.

    Args:
        out_dir: dataset root; gets ``annotations/``, ``train2017/`` and
            ``val2017/``.
        preset: a key of :data:`PRESETS`.
        seed: the same seed gives byte-identical JSON and identical images.
        force: regenerate even if a complete output with the same settings
            and seed exists.
        progress: show tqdm progress bars.
        **overrides: :class:`LongTailSettings` fields replacing the preset's.

    Returns:
        dict: ``data_root``, ``train_ann_file``, ``val_ann_file``,
        ``train_img_dir``, ``val_img_dir`` (paths); ``bin_edges`` (tuple, the
        scaled BAGS edges), ``scale_factor``, ``class_names`` (in label
        order, for ``metainfo=dict(classes=...)``), ``settings``
        (:class:`LongTailSettings`), ``seed``, ``reused`` (bool),
        ``dropped_instances`` (planned objects that ended up almost fully
        occluded, normally 0); from the written training split:
        ``instance_counts`` (list, label order: usable as
        ``groups=dict(instance_counts=..., bin_edges=...)``),
        ``frequency_counts`` (``{'r': .., 'c': .., 'f': ..}``) and
        ``group_sizes`` (classes per scaled bin).
    """
    settings = resolve_settings(preset, **overrides)
    plan = plan_long_tail_dataset(settings, seed)
    out_dir = osp.abspath(out_dir)
    paths = _output_paths(out_dir)
    result: Dict[str, Any] = dict(
        paths, bin_edges=plan.bin_edges, scale_factor=plan.scale_factor,
        class_names=plan.class_names, settings=settings, seed=seed)

    existing = None if force else _existing_output(paths, plan)
    if existing is not None:
        result.update(_summary(existing['categories'], plan.bin_edges))
        result.update(reused=True, dropped_instances=existing['info'].get(
            'dropped_instances', 0))
        return result

    os.makedirs(osp.dirname(paths['train_ann_file']), exist_ok=True)
    # The train file is the completion marker: remove it first so that an
    # interrupted run is never mistaken for a complete one.
    if osp.exists(paths['train_ann_file']):
        os.remove(paths['train_ann_file'])
    train_images, train_annotations, train_dropped = _render_split(
        plan, plan.train, out_dir, 1, progress)
    val_images, val_annotations, val_dropped = _render_split(
        plan, plan.val, out_dir, len(train_annotations) + 1, progress)

    num_classes = settings.num_classes
    instance_counts, image_counts = _counts_from_annotations(
        train_annotations, num_classes)
    categories = _category_records(plan, image_counts, instance_counts)
    dropped = train_dropped + val_dropped
    info = {
        'description': 'Synthetic long-tail detection dataset in LVIS v1 '
                       'format: classes are colour/texture/shape '
                       'combinations with LVIS v1-shaped instance counts',
        'generator': _settings_record(plan),
        'preset': preset,
        'seed': seed,
        'scale_factor': plan.scale_factor,
        'bags_bin_edges': list(plan.bin_edges),
        'lvis_bin_edges': list(LVIS_BIN_EDGES),
        'frequency_image_counts': {'r': [1, RARE_MAX_IMAGES],
                                   'c': [RARE_MAX_IMAGES + 1,
                                         COMMON_MAX_IMAGES],
                                   'f': [COMMON_MAX_IMAGES + 1, None]},
        'lvis_instance_counts': [int(c) for c in plan.lvis_counts],
        'dropped_instances': dropped,
    }
    write_json(paths['val_ann_file'], {
        'info': dict(info, split='val'), 'images': val_images,
        'annotations': val_annotations, 'categories': categories})
    write_json(paths['train_ann_file'], {
        'info': dict(info, split='train'), 'images': train_images,
        'annotations': train_annotations, 'categories': categories})
    result.update(_summary(categories, plan.bin_edges))
    result.update(reused=False, dropped_instances=dropped)
    return result
