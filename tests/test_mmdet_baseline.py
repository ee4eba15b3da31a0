"""MMDetection's own LVIS v1 Mask R-CNN builds, trains a step and predicts on CPU."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from detection_helpers import (LVIS_V1_MASK_RCNN, QUICK_TEST_CFG,
                               assert_valid_predictions, build_mmdet_model,
                               random_detection_batch)


@pytest.fixture(scope='module')
def mask_rcnn():
    torch.manual_seed(0)
    model, cfg = build_mmdet_model(LVIS_V1_MASK_RCNN, QUICK_TEST_CFG)
    return model, cfg


def test_config_is_the_lvis_v1_mask_rcnn(mask_rcnn):
    model, cfg = mask_rcnn
    assert cfg.model.roi_head.bbox_head.num_classes == 1203
    assert model.roi_head.bbox_head.fc_cls.out_features == 1204


def test_one_training_step_updates_the_classifier(mask_rcnn):
    model, _ = mask_rcnn
    model.train()
    optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    before = model.roi_head.bbox_head.fc_cls.weight.detach().clone()
    log_vars = model.train_step(
        random_detection_batch(num_images=2, image_size=(128, 128)),
        optim_wrapper)
    for name in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
                 'loss_mask', 'loss'):
        assert name in log_vars
        assert torch.isfinite(log_vars[name]), name
    assert not torch.equal(before, model.roi_head.bbox_head.fc_cls.weight)


def test_one_prediction(mask_rcnn):
    model, cfg = mask_rcnn
    model.eval()
    batch = random_detection_batch(num_images=2, image_size=(128, 128))
    with torch.no_grad():
        results = model.test_step(batch)
    assert len(results) == 2
    assert_valid_predictions(results, 1203,
                             cfg.model.test_cfg.rcnn.max_per_img, (128, 128),
                             with_masks=True)
