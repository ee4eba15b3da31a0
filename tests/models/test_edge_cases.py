"""Edge cases that must train and predict with a BAGS head (small Faster
R-CNN, ResNet-18, CPU)."""
import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData

from detection_helpers import (QUICK_TEST_CFG, assert_valid_predictions,
                               build_mmdet_model, random_detection_batch)

FASTER_RCNN = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'


def bags_faster_rcnn(instance_counts, bin_edges=(10, 100, 1000)):

    def small(cfg):
        cfg.model.backbone.update(depth=18)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        cfg.model.roi_head.bbox_head.update(
            type='BAGSBBoxHead', num_classes=len(instance_counts),
            groups=dict(instance_counts=list(instance_counts)),
            bin_edges=bin_edges)
    torch.manual_seed(0)
    model, cfg = build_mmdet_model(FASTER_RCNN, QUICK_TEST_CFG,
                                   modify=small)
    return model, cfg


def train_and_predict(model, batch, num_classes):
    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(batch, optim_wrapper)
    for name, value in log_vars.items():
        assert torch.isfinite(value), name
    model.eval()
    with torch.no_grad():
        results = model.test_step(batch)
    assert_valid_predictions(results, num_classes, max_per_img=100,
                             image_size=None, with_masks=False)
    return log_vars


@pytest.mark.parametrize('counts, edges, groups', [
    ([7], (10, 100, 1000), (1, )),                       # one class
    ([5, 50, 500, 5000], (10, 100, 1000), (1, 1, 1, 1)),  # one per group
    ([5, 3, 5000, 2000], (10, 100, 1000), (2, 2)),       # empty bins
    ([1, 2, 3], (100, ), (3, )),                         # a single group
])
def test_small_layouts_train_and_predict(counts, edges, groups):
    model, _ = bags_faster_rcnn(counts, edges)
    assert model.roi_head.bbox_head.layout.group_sizes == groups
    batch = random_detection_batch(num_images=2, image_size=(96, 96),
                                   num_classes=len(counts), with_masks=False)
    train_and_predict(model, batch, len(counts))


@pytest.fixture(scope='module')
def lvis_like_model():
    return bags_faster_rcnn([5, 50, 500, 5000, 0, 20])


def test_image_without_objects_gives_only_background_rois(lvis_like_model):
    model, _ = lvis_like_model
    batch = random_detection_batch(num_images=1, image_size=(96, 96),
                                   num_classes=6, with_masks=False)
    empty = InstanceData(bboxes=torch.zeros(0, 4),
                         labels=torch.zeros(0, dtype=torch.long))
    batch['data_samples'][0].gt_instances = empty
    log_vars = train_and_predict(model, batch, 6)
    # No foreground RoI: only group 0 learns; the others contribute 0.
    for group in range(1, 5):
        assert log_vars[f'bags_group{group}_ce'].item() == 0.0


def test_tiny_images(lvis_like_model):
    model, _ = lvis_like_model
    batch = random_detection_batch(num_images=2, image_size=(32, 32),
                                   num_classes=6, num_objects=1,
                                   with_masks=False)
    train_and_predict(model, batch, 6)


def test_an_image_with_hundreds_of_objects(lvis_like_model):
    model, _ = lvis_like_model
    batch = random_detection_batch(num_images=1, image_size=(128, 128),
                                   num_classes=6, num_objects=300,
                                   with_masks=False, seed=3)
    assert len(batch['data_samples'][0].gt_instances) == 300
    train_and_predict(model, batch, 6)


def test_no_proposals_predicts_nothing(lvis_like_model):
    model, _ = lvis_like_model
    model.eval()
    batch = random_detection_batch(num_images=1, image_size=(96, 96),
                                   num_classes=6, with_masks=False)
    data = model.data_preprocessor(batch, False)
    features = model.extract_feat(data['inputs'])
    no_proposals = [InstanceData(bboxes=torch.zeros(0, 4),
                                 scores=torch.zeros(0),
                                 labels=torch.zeros(0, dtype=torch.long))]
    with torch.no_grad():
        results = model.roi_head.predict(features, no_proposals,
                                         data['data_samples'])
    assert len(results) == 1 and len(results[0]) == 0
    assert np.asarray(results[0].scores).size == 0
