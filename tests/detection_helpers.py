"""Small inputs for CPU tests: random detection batches and LVIS-format files."""
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData


def skip_config_formatting() -> None:
    """Runners print and dump their whole config; MMEngine formats that text
    with yapf, which costs about 0.7 s per call on these configs, several
    times per Runner. Tests keep the text but skip the formatting (the
    unformatted text is the same Python; no test reads its layout)."""
    import mmengine.config.config as mmengine_config
    mmengine_config.FormatCode = lambda text, **kwargs: (text, False)


LVIS_V1_MASK_RCNN = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'


def build_mmdet_model(config_name: str, cfg_options: dict = None,
                      modify=None):
    """Build an MMDetection config's model on CPU without pretrained weights.

    Args:
        config_name: e.g. ``'mmdet::lvis/...py'``.
        cfg_options: merged into the config (like ``--cfg-options``).
        modify: optional function called with the config before building.

    Returns:
        tuple: the model and its config.
    """
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')  # module-scoped fixtures run before autouse
    cfg = get_config(config_name)  # resolves mmdet:: like _base_ does
    cfg.model.backbone.init_cfg = None  # no download of pretrained weights
    cfg.merge_from_dict(cfg_options or {})
    if modify is not None:
        modify(cfg)
    return MODELS.build(cfg.model), cfg


#: ``cfg_options`` for tests that predict with a randomly initialised
#: detector. Score threshold 0: every RoI's class scores pass, so a test can
#: assert that there are detections. 100 proposals and 20 detections per
#: image (instead of 1000 and 300 for LVIS) keep the RoI and mask heads'
#: test-time work small; the code path is the same.
QUICK_TEST_CFG = {
    'model.test_cfg.rpn.max_per_img': 100,
    'model.test_cfg.rcnn.score_thr': 0.0,
    'model.test_cfg.rcnn.max_per_img': 20,
}


def assert_valid_predictions(results, num_classes, max_per_img, image_size,
                             with_masks):
    """At least one and at most max_per_img detections per image (the model
    is built with :data:`QUICK_TEST_CFG`), scores in [0, 1], labels in
    [0, C), masks of the image size."""
    for result in results:
        pred = result.pred_instances
        assert 0 < len(pred) <= max_per_img
        assert 0 <= pred.scores.min() and pred.scores.max() <= 1
        assert 0 <= pred.labels.min() and pred.labels.max() < num_classes
        if with_masks:
            assert pred.masks.shape[1:] == tuple(image_size)
        else:
            assert 'masks' not in pred


def random_detection_batch(num_images: int = 2,
                           image_size: Tuple[int, int] = (128, 128),
                           num_classes: int = 1203,
                           num_objects: int = 3,
                           with_masks: bool = True,
                           seed: int = 0) -> Dict[str, list]:
    """A batch in the form MMDetection's data preprocessor takes.

    Images are random uint8 (3, H, W) tensors; each has ``num_objects``
    random boxes of random labels in ``[0, num_classes)``, with box-shaped
    bitmap masks when ``with_masks``.
    """
    generator = torch.Generator().manual_seed(seed)
    height, width = image_size
    inputs, data_samples = [], []
    for image_index in range(num_images):
        inputs.append(
            torch.randint(0, 256, (3, height, width), generator=generator,
                          dtype=torch.uint8))
        data_sample = DetDataSample(
            metainfo=dict(
                img_id=image_index,
                img_path=f'image_{image_index}.jpg',
                img_shape=(height, width),
                ori_shape=(height, width),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        top_left = torch.rand(num_objects, 2, generator=generator) * \
            torch.tensor([width * 0.6, height * 0.6])
        size = 8 + torch.rand(num_objects, 2, generator=generator) * \
            torch.tensor([width * 0.35, height * 0.35])
        bboxes = torch.cat([top_left, top_left + size], dim=1).floor()
        labels = torch.randint(0, num_classes, (num_objects, ),
                               generator=generator)
        instances = InstanceData(bboxes=bboxes, labels=labels)
        if with_masks:
            masks = np.zeros((num_objects, height, width), dtype=np.uint8)
            for mask, (x1, y1, x2, y2) in zip(masks, bboxes.int().tolist()):
                mask[y1:y2, x1:x2] = 1
            instances.masks = BitmapMasks(masks, height, width)
        data_sample.gt_instances = instances
        data_samples.append(data_sample)
    return dict(inputs=inputs, data_samples=data_samples)


def box_polygon(box: Sequence[float]) -> List[float]:
    """The polygon ``[x1, y1, x2, y1, x2, y2, x1, y2]`` of an xyxy box."""
    x1, y1, x2, y2 = box
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def write_small_lvis_file(path, image_size: Tuple[int, int] = (64, 64)):
    """Write a tiny LVIS v1-format annotation file and return its content.

    Three categories (one each of frequency r, c, f), two images, five
    box-shaped instances with polygon masks.
    """
    height, width = image_size
    categories = [
        dict(id=1, name='apple', frequency='r', image_count=1,
             instance_count=1, synset='apple.n.01', synonyms=['apple'],
             def_='fruit'),
        dict(id=2, name='ball', frequency='c', image_count=2,
             instance_count=2, synset='ball.n.01', synonyms=['ball'],
             def_='toy'),
        dict(id=3, name='cup', frequency='f', image_count=2,
             instance_count=2, synset='cup.n.01', synonyms=['cup'],
             def_='vessel'),
    ]
    images = [
        dict(id=image_id, height=height, width=width,
             file_name=f'{image_id:012d}.jpg',
             coco_url=f'http://images.cocodataset.org/train2017/'
             f'{image_id:012d}.jpg',
             not_exhaustive_category_ids=[], neg_category_ids=[])
        for image_id in (1, 2)
    ]
    boxes = [(1, 1, (4, 4, 24, 20)), (1, 2, (30, 8, 56, 40)),
             (1, 3, (10, 40, 30, 60)), (2, 2, (5, 5, 40, 30)),
             (2, 3, (20, 34, 50, 60))]
    annotations = []
    for annotation_id, (image_id, category_id, box) in enumerate(boxes, 1):
        x1, y1, x2, y2 = box
        annotations.append(
            dict(id=annotation_id, image_id=image_id,
                 category_id=category_id,
                 bbox=[x1, y1, x2 - x1, y2 - y1],
                 area=float((x2 - x1) * (y2 - y1)),
                 segmentation=[box_polygon(box)]))
    content = dict(images=images, annotations=annotations,
                   categories=categories,
                   info=dict(description='test'), licenses=[])
    with open(path, 'w') as file:
        json.dump(content, file)
    return content


def tiny_cfg(config, data: dict, work_dir: str):
    """A real config shrunk for CPU tests: ResNet-18, 128 px, 4 images of the
    generated set ``data`` (see ``generate_longtail_lvis``), 1 epoch."""
    from mmengine.config import Config

    from mmdet_bags.analysis.experiments import use_small_test_sizes
    cfg = Config.fromfile(str(config))
    num_classes = len(data['class_names'])
    root = data['data_root'].rstrip('/') + '/'
    cfg.work_dir = work_dir
    if cfg.model.backbone.type == 'ResNeXt':  # no ResNeXt-18 exists
        for key in ('groups', 'base_width'):
            cfg.model.backbone.pop(key, None)
        cfg.model.backbone.type = 'ResNet'
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    heads = cfg.model.roi_head.bbox_head
    for head in heads if isinstance(heads, list) else [heads]:
        head.num_classes = num_classes
        if head.type == 'BAGSBBoxHead':
            head.groups = data['train_ann_file']
            head.bin_edges = tuple(data['bin_edges'])
    mask_heads = cfg.model.roi_head.get('mask_head', [])
    for mask_head in (mask_heads if isinstance(mask_heads, list) else
                      [mask_heads]):
        mask_head.num_classes = num_classes
    rcnn_train = cfg.model.train_cfg.rcnn
    for stage in rcnn_train if isinstance(rcnn_train, list) else [rcnn_train]:
        stage.sampler.num = 64
    with_mask = 'mask_head' in cfg.model.roi_head
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=with_mask),
        dict(type='Resize', scale=(128, 128), keep_ratio=True),
        dict(type='PackDetInputs')
    ]
    split_prefix = dict(train='', val='')
    if cfg.train_dataloader.dataset.type in ('LVISV05Dataset', 'CocoDataset'):
        # v0.5 and COCO datasets join file_name to the split folder.
        split_prefix = dict(train='train2017/', val='val2017/')
    # The LVIS-format files, or the COCO ones of generate_longtail_coco.
    ann_files = {split: osp.relpath(data[f'{split}_ann_file'], root)
                 for split in ('train', 'val')}
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader),
                          ('val', cfg.test_dataloader)):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(
            data_root=root, ann_file=ann_files[split],
            data_prefix=dict(img=split_prefix[split]), indices=4,
            pipeline=pipeline, metainfo=dict(classes=data['class_names']))
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = data['val_ann_file']
        if 'train_ann_file' in evaluator:  # per-bin metrics
            evaluator.train_ann_file = data['train_ann_file']
            evaluator.bin_edges = tuple(data['bin_edges'])
    # The smoke runs' test-time sizes (cascades and HTC run their mask heads
    # on every detection of every stage).
    use_small_test_sizes(cfg.model)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    return cfg


def generate_tiny_longtail(root, seed: int, coco: bool = False) -> dict:
    """A very small generated LVIS-format set (8 classes, 16 train / 8 val
    images) for end-to-end tests; see ``generate_longtail_lvis``. With
    ``coco``, ``train_ann_file``/``val_ann_file`` are COCO-format files of
    the same set (``generate_longtail_coco``)."""
    from mmdet_bags.datasets import (generate_longtail_coco,
                                     generate_longtail_lvis)
    generate = generate_longtail_coco if coco else generate_longtail_lvis
    return generate(str(root), preset='tiny', seed=seed, num_classes=8,
                    num_train_images=16, num_val_images=8,
                    min_val_instances_per_class=2, progress=False)


def train_baseline_then_decoupled(baseline_config, decoupled_config,
                                  data: dict, work_root) -> dict:
    """Train a plain baseline config (``tiny_cfg``, 1 epoch), then a BAGS
    decoupled config from its checkpoint.

    Returns:
        dict: ``baseline`` and ``bags`` (the two final state dicts),
        ``logs`` (the decoupled run's log scalars) and ``runner`` (its
        Runner).
    """
    from pathlib import Path

    from mmengine.runner import Runner
    work_root = Path(work_root)
    Runner.from_cfg(tiny_cfg(baseline_config, data,
                             str(work_root / 'baseline'))).train()
    checkpoint = work_root / 'baseline' / 'epoch_1.pth'
    cfg = tiny_cfg(decoupled_config, data, str(work_root / 'decoupled'))
    cfg.load_from = str(checkpoint)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return dict(
        baseline=torch.load(str(checkpoint))['state_dict'],
        bags=torch.load(str(work_root / 'decoupled' /
                            'epoch_1.pth'))['state_dict'],
        logs=runner.message_hub.log_scalars, runner=runner)


def with_stuff_maps(cfg, data: dict):
    """Give a ``tiny_cfg`` of an HTC with its semantic branch what the branch
    reads: a COCO-stuff-like map (labels 0..182, 255 = ignore) per training
    image under ``stuffthingmaps/train2017/``, and a pipeline that loads it."""
    import glob
    import os

    import cv2
    import numpy as np
    root = data['data_root'].rstrip('/') + '/'
    seg_dir = osp.join(root, 'stuffthingmaps', 'train2017')
    os.makedirs(seg_dir, exist_ok=True)
    generator = np.random.default_rng(0)
    for image in sorted(glob.glob(osp.join(root, 'train2017', '*.jpg'))):
        height, width = cv2.imread(image).shape[:2]
        stuff = generator.integers(0, 183, (height, width), dtype=np.uint8)
        stuff[:2] = 255
        name = osp.splitext(osp.basename(image))[0] + '.png'
        cv2.imwrite(osp.join(seg_dir, name), stuff)
    dataset = cfg.train_dataloader.dataset
    dataset.data_prefix = dict(img='train2017/',
                               seg='stuffthingmaps/train2017/')
    for step in dataset.pipeline:
        if step['type'] == 'LoadAnnotations':
            step['with_seg'] = True
    return cfg
