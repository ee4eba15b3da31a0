"""GroupSoftmaxLoss swapped into MMDetection's own LVIS v1 Mask R-CNN config
(only ``roi_head.bbox_head.loss_cls`` changes, the way Seesaw is used)."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from detection_helpers import (LVIS_V1_MASK_RCNN, QUICK_TEST_CFG,
                               build_mmdet_model, random_detection_batch)
from reference_group_softmax import reference_activation


@pytest.fixture(scope='module')
def bags_mask_rcnn():
    torch.manual_seed(0)
    return build_mmdet_model(
        LVIS_V1_MASK_RCNN, {
            'model.roi_head.bbox_head.loss_cls':
            dict(type='GroupSoftmaxLoss', num_classes=1203, groups='lvis_v1'),
            **QUICK_TEST_CFG
        })


def test_classifier_has_the_bags_width(bags_mask_rcnn):
    model, _ = bags_mask_rcnn
    assert model.roi_head.bbox_head.fc_cls.out_features == 1209


def test_training_step_trains_every_group(bags_mask_rcnn):
    model, _ = bags_mask_rcnn
    model.train()
    fc_cls = model.roi_head.bbox_head.fc_cls
    before = fc_cls.weight.detach().clone()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(
        random_detection_batch(num_images=2, image_size=(128, 128), seed=1),
        optim_wrapper)
    for name in ('loss_cls', 'loss_bbox', 'loss_mask', 'loss',
                 'acc_objectness', 'acc_classes', 'bags_group0_ce'):
        assert torch.isfinite(log_vars[name]), name
    # The per-group terms are logged, not added again to the total.
    parts = sum(log_vars[k] for k in log_vars
                if k.startswith('loss_') and k != 'loss')
    assert log_vars['loss'].item() == pytest.approx(parts.item(), rel=1e-5)
    assert not torch.equal(before, fc_cls.weight)


def test_prediction_uses_bags_scores(bags_mask_rcnn):
    """The detections' scores are the BAGS scores of the head's logits (the
    loss's activation), not a plain softmax over them."""
    model, cfg = bags_mask_rcnn
    model.eval()
    head = model.roi_head.bbox_head
    logits = []
    handle = head.register_forward_hook(
        lambda module, args, output: logits.append(output[0]))
    try:
        with torch.no_grad():
            results = model.test_step(
                random_detection_batch(num_images=1, image_size=(128, 128)))
    finally:
        handle.remove()
    pred = results[0].pred_instances
    # QUICK_TEST_CFG (score_thr=0) keeps detections from a random model.
    assert 0 < len(pred) <= cfg.model.test_cfg.rcnn.max_per_img
    assert pred.masks.shape[1:] == (128, 128)
    (cls_score, ) = logits
    # The per-group reference implementation (not the fused one the head
    # uses), from the head's own layout.
    expected = reference_activation(head.loss_cls.layout, cls_score)[:, :-1]
    # Every detection carries its label's BAGS score of some RoI, and the
    # best one is the best BAGS score (NMS always keeps the top box).
    for score, label in zip(pred.scores, pred.labels):
        assert torch.isclose(expected[:, label], score, rtol=1e-5).any()
    assert pred.scores.max() == pytest.approx(expected.max().item(),
                                              rel=1e-5)
    # A plain softmax over the same logits gives other scores.
    plain = cls_score.softmax(dim=-1)[:, :1203]
    assert plain.max().item() != pytest.approx(expected.max().item(),
                                               rel=1e-3)
