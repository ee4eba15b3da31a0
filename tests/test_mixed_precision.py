"""Mixed precision on CPU: bfloat16 autocast (MMEngine's AmpOptimWrapper
needs a GPU; on a GPU it applies the same autocast around the model)."""
import pytest
import torch

from mmdet_bags.models.losses import GroupSoftmaxLoss

COUNTS = [5, 50, 500, 5000, 0, 20]


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_large_low_precision_logits_give_finite_exact_losses(dtype):
    """|z| ~ 1e4: computed in float32 inside, so the loss is finite and equal
    to the float32 loss of the same (rounded) values."""
    loss = GroupSoftmaxLoss(num_classes=6,
                            groups=dict(instance_counts=COUNTS),
                            others_sample_ratio=None)
    generator = torch.Generator().manual_seed(0)
    logits = (torch.randn(64, 12, generator=generator) * 1e4).to(dtype)
    labels = torch.randint(0, 7, (64, ), generator=generator)
    low = loss(logits.requires_grad_(True), labels)['loss_cls']
    high = loss(logits.detach().float(), labels)['loss_cls']
    assert torch.isfinite(low)
    assert low.item() == pytest.approx(high.item(), rel=1e-6)
    low.backward()
    assert logits.grad.dtype == dtype and torch.isfinite(logits.grad).all()
    scores = loss.get_activation(logits.detach())
    assert torch.isfinite(scores).all()
    assert torch.allclose(scores.float(),
                          loss.get_activation(logits.detach().float()),
                          atol=1e-2)


def test_head_training_step_under_bfloat16_autocast_matches_float32():
    """A BAGSBBoxHead training step (forward, loss, backward, SGD step)
    under torch.autocast('cpu', bfloat16): finite losses within 5 % of the
    float32 step, and finite gradients. (A whole detector cannot run under
    CPU autocast: mmcv's CPU NMS refuses bfloat16 proposals.)"""
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    head = MODELS.build(dict(
        type='BAGSBBoxHead', in_channels=256, fc_out_channels=1024,
        roi_feat_size=7, num_classes=6, groups=dict(instance_counts=COUNTS),
        others_sample_ratio=None,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.] * 4,
                        target_stds=[0.1, 0.1, 0.2, 0.2]),
        reg_class_agnostic=False))
    head.init_weights()
    state = {k: v.clone() for k, v in head.state_dict().items()}
    generator = torch.Generator().manual_seed(1)
    num_rois = 512
    features = torch.randn(num_rois, 256, 7, 7, generator=generator)
    rois = torch.cat([torch.zeros(num_rois, 1),
                      torch.rand(num_rois, 4, generator=generator) * 64],
                     dim=1)
    labels = torch.randint(0, 7, (num_rois, ), generator=generator)
    targets = torch.randn(num_rois, 4, generator=generator)

    def step(autocast):
        head.load_state_dict(state)
        optimizer = torch.optim.SGD(head.parameters(), lr=0.01)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            cls_score, bbox_pred = head(features)
            losses = head.loss(cls_score, bbox_pred, rois, labels,
                               torch.ones(num_rois), targets,
                               torch.ones(num_rois, 4))
        total = losses['loss_cls'] + losses['loss_bbox']
        total.backward()
        gradients_finite = all(torch.isfinite(p.grad).all()
                               for p in head.parameters()
                               if p.grad is not None)
        optimizer.step()
        return cls_score.dtype, losses, gradients_finite

    full_dtype, full, _ = step(autocast=False)
    mixed_dtype, mixed, finite = step(autocast=True)
    assert full_dtype == torch.float32 and mixed_dtype == torch.bfloat16
    assert finite
    for name in ('loss_cls', 'loss_bbox', 'bags_group0_ce',
                 'bags_group4_ce'):
        assert torch.isfinite(mixed[name]), name
        assert mixed[name].float().item() == pytest.approx(
            full[name].item(), rel=0.05), name


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason='AmpOptimWrapper needs a GPU (MMEngine asserts it)')
def test_detector_step_under_amp_optim_wrapper_fp16_on_gpu():
    """A whole BAGS Mask R-CNN training step through MMEngine's
    AmpOptimWrapper (fp16, dynamic loss scale) on a GPU: every loss finite
    and within 10 % of the float32 step from the same weights and batch."""
    import copy

    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    from detection_helpers import build_mmdet_model, random_detection_batch

    def bags(cfg):
        cfg.model.roi_head.bbox_head.update(type='BAGSBBoxHead',
                                            num_classes=1203,
                                            groups='lvis_v1')
        cfg.model.roi_head.bbox_head.pop('loss_cls')
        cfg.model.roi_head.mask_head.num_classes = 1203

    torch.manual_seed(0)
    model, _ = build_mmdet_model(
        'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', modify=bags)
    model = model.cuda()
    state = copy.deepcopy(model.state_dict())
    batch = random_detection_batch(num_images=2, image_size=(256, 256))

    def step(wrapper_type, **kwargs):
        model.load_state_dict(state)
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        wrapper = wrapper_type(optimizer=optimizer, **kwargs)
        torch.manual_seed(1)
        torch.cuda.manual_seed_all(1)
        return model.train_step(copy.deepcopy(batch), wrapper)

    full = step(OptimWrapper)
    mixed = step(AmpOptimWrapper, dtype='float16', loss_scale='dynamic')
    for name, value in mixed.items():
        assert torch.isfinite(value).all(), name
    for name in ('loss_cls', 'loss_bbox', 'loss_mask'):
        assert mixed[name].item() == pytest.approx(full[name].item(),
                                                   rel=0.1), name
