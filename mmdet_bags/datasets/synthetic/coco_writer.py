"""The generated long-tail set in plain COCO format, as a user's own data.

:func:`generate_longtail_coco` writes the same images and objects as
:func:`~mmdet_bags.datasets.generate_longtail_lvis`, described by COCO
instance files (``annotations/instances_{train,val}2017.json``) that carry
only COCO's fields: no LVIS frequencies, image counts or exhaustiveness
lists. MMDetection reads them with ``CocoDataset`` and
``metainfo=dict(classes=...)``, evaluates them with ``CocoMetric`` (or
:class:`~mmdet_bags.evaluation.PerBinCocoMetric`), and BAGS counts its
groups from the training file, like for any custom dataset.
"""
import json
import os
import os.path as osp
from typing import Any, Dict

from ..json_files import write_json
from .lvis_writer import generate_longtail_lvis

COCO_TRAIN_JSON = 'instances_train2017.json'
COCO_VAL_JSON = 'instances_val2017.json'

_IMAGE_KEYS = ('id', 'file_name', 'height', 'width')
_ANNOTATION_KEYS = ('id', 'image_id', 'category_id', 'bbox', 'area',
                    'segmentation', 'iscrowd')


def lvis_to_coco(lvis: Dict[str, Any]) -> Dict[str, Any]:
    """A COCO instance-file dict from a generated LVIS-format dict: the same
    ids, file names, boxes and RLE masks; LVIS-only fields dropped;
    ``supercategory`` is the shape of the class."""
    info = dict(lvis.get('info', {}))
    info['description'] = ('Synthetic long-tail detection dataset in COCO '
                           'format (converted from its LVIS-format files)')
    return {
        'info': info,
        'licenses': [],
        'images': [{key: image[key] for key in _IMAGE_KEYS}
                   for image in lvis['images']],
        'annotations': [{key: annotation[key] for key in _ANNOTATION_KEYS}
                        for annotation in lvis['annotations']],
        'categories': [{'id': category['id'], 'name': category['name'],
                        'supercategory': category['name'].rsplit('_', 1)[-1]}
                       for category in lvis['categories']],
    }


def generate_longtail_coco(out_dir: str, preset: str = 'tiny', seed: int = 0,
                           force: bool = False, progress: bool = True,
                           **overrides) -> Dict[str, Any]:
    """Generate (or reuse) the long-tail set and write COCO instance files.

    Arguments as :func:`~mmdet_bags.datasets.generate_longtail_lvis`. The
    COCO files are rewritten whenever the LVIS-format files are (they are
    derived from them) or are missing.

    Returns:
        dict: what ``generate_longtail_lvis`` returns, except that
        ``train_ann_file``/``val_ann_file`` are the COCO files
        (``annotations/instances_{train,val}2017.json``, images in
        ``train2017/`` and ``val2017/``: ``data_prefix=dict(img='train2017/')``)
        and the LVIS-format files are ``lvis_train_ann_file`` /
        ``lvis_val_ann_file``.
    """
    result = generate_longtail_lvis(out_dir, preset=preset, seed=seed,
                                    force=force, progress=progress,
                                    **overrides)
    annotations = osp.join(result['data_root'], 'annotations')
    coco_files = dict(train_ann_file=osp.join(annotations, COCO_TRAIN_JSON),
                      val_ann_file=osp.join(annotations, COCO_VAL_JSON))
    for split, coco_file in coco_files.items():
        lvis_file = result[split]
        if result['reused'] and osp.isfile(coco_file) and \
                osp.getmtime(coco_file) >= osp.getmtime(lvis_file):
            continue
        with open(lvis_file) as file:
            lvis = json.load(file)
        if osp.exists(coco_file):
            os.remove(coco_file)
        write_json(coco_file, lvis_to_coco(lvis))
    result.update(lvis_train_ann_file=result['train_ann_file'],
                  lvis_val_ann_file=result['val_ann_file'], **coco_files)
    return result
