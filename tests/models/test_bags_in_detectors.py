"""BAGSBBoxHead inside MMDetection's detectors, built from MMDetection's own
configs: Mask R-CNN (type swap), Cascade Mask R-CNN (three BAGS stages),
test-time augmentation, and classifier-only training."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper

from detection_helpers import (LVIS_V1_MASK_RCNN, QUICK_TEST_CFG,
                               assert_valid_predictions, build_mmdet_model,
                               random_detection_batch)
from mmdet_bags.engine import TrainClassifierOnlyHook

CASCADE_MASK_RCNN = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'
FASTER_RCNN = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
IMAGE_SIZE = (128, 128)


def train_one_step(model, seed=1):
    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    return model.train_step(
        random_detection_batch(num_images=2, image_size=IMAGE_SIZE,
                               seed=seed), optim_wrapper)


def classifier_weights(model):
    heads = model.roi_head.bbox_head
    heads = heads if isinstance(heads, torch.nn.ModuleList) else [heads]
    return [head.fc_cls.weight.detach().clone() for head in heads]


# ------------------------------------------- Mask R-CNN, way (b): type swap
@pytest.fixture(scope='module')
def mask_rcnn_type_swap():
    torch.manual_seed(0)
    return build_mmdet_model(LVIS_V1_MASK_RCNN, {
        'model.roi_head.bbox_head.type': 'BAGSBBoxHead',
        'model.roi_head.bbox_head.groups': 'lvis_v1',
        **QUICK_TEST_CFG
    })


def test_type_swap_replaces_the_inherited_loss(mask_rcnn_type_swap):
    model, cfg = mask_rcnn_type_swap
    head = model.roi_head.bbox_head
    assert type(head).__name__ == 'BAGSBBoxHead'
    assert type(head.loss_cls).__name__ == 'GroupSoftmaxLoss'
    assert head.fc_cls.out_features == 1209
    assert cfg.model.roi_head.bbox_head.loss_cls.type == 'CrossEntropyLoss'


def test_type_swap_trains_and_predicts(mask_rcnn_type_swap):
    model, cfg = mask_rcnn_type_swap
    before = classifier_weights(model)
    log_vars = train_one_step(model)
    for name in ('loss_cls', 'loss_bbox', 'loss_mask', 'acc_classes'):
        assert torch.isfinite(log_vars[name]), name
    assert not torch.equal(before[0], classifier_weights(model)[0])
    model.eval()
    with torch.no_grad():
        results = model.test_step(
            random_detection_batch(num_images=1, image_size=IMAGE_SIZE))
    assert_valid_predictions(results, 1203,
                             cfg.model.test_cfg.rcnn.max_per_img, IMAGE_SIZE,
                             with_masks=True)


# ------------------------------------------------- Cascade Mask R-CNN, LVIS
def bags_cascade(cfg):
    stages = []
    for stage in cfg.model.roi_head.bbox_head:
        stage = copy.deepcopy(stage)
        stage.update(type='BAGSBBoxHead', num_classes=1203, groups='lvis_v1')
        stage.pop('loss_cls')
        stages.append(stage)
    cfg.model.roi_head.bbox_head = stages
    cfg.model.roi_head.mask_head.num_classes = 1203


@pytest.fixture(scope='module')
def cascade():
    torch.manual_seed(0)
    return build_mmdet_model(CASCADE_MASK_RCNN, QUICK_TEST_CFG,
                             modify=bags_cascade)


def test_cascade_has_three_bags_stages_with_agnostic_regression(cascade):
    model, _ = cascade
    heads = model.roi_head.bbox_head
    assert len(heads) == 3
    for head in heads:
        assert type(head).__name__ == 'BAGSBBoxHead'
        assert head.reg_class_agnostic
        assert head.fc_cls.out_features == 1209


def test_cascade_trains_every_stage(cascade):
    model, _ = cascade
    before = classifier_weights(model)
    log_vars = train_one_step(model)
    for stage in range(3):
        for name in ('loss_cls', 'loss_bbox', 'acc_objectness'):
            assert torch.isfinite(log_vars[f's{stage}.{name}'])
    for old, new in zip(before, classifier_weights(model)):
        assert not torch.equal(old, new)


def test_cascade_predicts_from_averaged_raw_logits(cascade, monkeypatch):
    model, cfg = cascade
    model.eval()
    heads = model.roi_head.bbox_head
    activations = []
    last_loss = heads[2].loss_cls
    original = type(last_loss).get_activation

    def recording(self, cls_score):
        activations.append(cls_score.detach().clone())
        return original(self, cls_score)
    monkeypatch.setattr(type(last_loss), 'get_activation', recording)
    stage_logits = []
    handles = [
        head.register_forward_hook(
            lambda module, args, output: stage_logits.append(output[0]))
        for head in heads
    ]
    try:
        with torch.no_grad():
            results = model.test_step(
                random_detection_batch(num_images=1, image_size=IMAGE_SIZE))
    finally:
        for handle in handles:
            handle.remove()
    assert_valid_predictions(results, 1203,
                             cfg.model.test_cfg.rcnn.max_per_img, IMAGE_SIZE,
                             with_masks=True)
    # Stages 0 and 1 activate their own logits to refine boxes; the final
    # scores activate the mean of the three stages' raw logits, once.
    mean_logits = sum(stage_logits[:3]) / 3
    assert any(torch.allclose(a, mean_logits, atol=1e-6) for a in activations)


# ----------------------------------------- test-time augmentation (boxes)
def test_test_time_augmentation_with_flip():
    from mmdet.models import DetTTAModel
    from mmengine.config import ConfigDict

    def small_bags_faster_rcnn(cfg):
        cfg.model.backbone.update(depth=18)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        cfg.model.roi_head.bbox_head.update(type='BAGSBBoxHead',
                                            num_classes=1203,
                                            groups='lvis_v1')
    torch.manual_seed(0)
    model, _ = build_mmdet_model(FASTER_RCNN, QUICK_TEST_CFG,
                                 modify=small_bags_faster_rcnn)
    model.eval()
    # A ConfigDict, as from a config file: DetTTAModel reads attributes
    # (the plain dict this test used went unnoticed while the random model
    # kept no detection, so nothing was merged).
    tta = DetTTAModel(module=model, tta_cfg=ConfigDict(
        nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
    original = random_detection_batch(num_images=1, image_size=IMAGE_SIZE,
                                      with_masks=False)
    flipped = random_detection_batch(num_images=1, image_size=IMAGE_SIZE,
                                     with_masks=False)
    flipped['inputs'] = [original['inputs'][0].flip(-1)]
    flipped['data_samples'][0].set_metainfo(
        dict(flip=True, flip_direction='horizontal'))
    data = dict(inputs=[original['inputs'], flipped['inputs']],
                data_samples=[original['data_samples'],
                              flipped['data_samples']])
    with torch.no_grad():
        results = tta.test_step(data)
    assert len(results) == 1
    assert_valid_predictions(results, 1203, 100, IMAGE_SIZE, with_masks=False)


# ----------------------------------------------- classifier-only training
def test_train_classifier_only_hook_changes_nothing_but_fc_cls():

    def small_model(cfg):
        cfg.model.backbone.update(depth=18, norm_eval=False, frozen_stages=-1)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        cfg.model.roi_head.bbox_head.update(
            type='BAGSBBoxHead', num_classes=6,
            groups=dict(instance_counts=[5, 50, 500, 5000, 0, 20]))
    torch.manual_seed(0)
    model, _ = build_mmdet_model(FASTER_RCNN, modify=small_model)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    runner = SimpleNamespace(model=model, _load_from='baseline.pth')
    hook = TrainClassifierOnlyHook()
    model.train()
    hook.before_train(runner)
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                        weight_decay=1e-4))
    for step in range(3):
        model.train()  # as MMEngine's loop does; the hook must undo it
        hook.before_train_iter(runner, step)
        batch = random_detection_batch(num_images=2, image_size=IMAGE_SIZE,
                                       num_classes=6, with_masks=False,
                                       seed=step)
        model.train_step(batch, optim_wrapper)
    after = model.state_dict()
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert changed == ['roi_head.bbox_head.fc_cls.bias',
                       'roi_head.bbox_head.fc_cls.weight']


def test_without_the_hook_batchnorm_statistics_would_move():
    """Control for the test above: the small model's BN layers do update."""

    def small_model(cfg):
        cfg.model.backbone.update(depth=18, norm_eval=False, frozen_stages=-1)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
    torch.manual_seed(0)
    model, _ = build_mmdet_model(FASTER_RCNN, modify=small_model)
    key = 'backbone.layer1.0.bn1.running_mean'
    before = model.state_dict()[key].clone()
    model.train()
    model.train_step(
        random_detection_batch(num_images=1, image_size=IMAGE_SIZE,
                               num_classes=80, with_masks=False),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0)))
    assert not torch.equal(before, model.state_dict()[key])


def test_hook_refuses_a_typo():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match='nothing would be trained'):
        TrainClassifierOnlyHook(trainable='fc_clss').before_train(
            SimpleNamespace(model=model, _load_from='baseline.pth'))


def test_hook_refuses_to_train_a_classifier_without_a_checkpoint():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match='set load_from'):
        TrainClassifierOnlyHook().before_train(
            SimpleNamespace(model=model, _load_from=None, _resume=False))
    TrainClassifierOnlyHook(require_checkpoint=False, trainable='0').\
        before_train(SimpleNamespace(model=model, _load_from=None))
