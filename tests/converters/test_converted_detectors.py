"""Converted checkpoints load strictly into whole MMDetection 3.x detectors.

The source state dicts use the sources' key names: for the original code,
MMDetection v1's (RoI heads at the top level, cascade stages ``bbox_head.0``,
HTC mask heads that all have ``conv_res``, the HTC semantic head, deformable
convs with ``conv2_offset`` beside ``conv2``); backbone, neck and RPN names
are the same in v1 and 3.x, so they are taken from the 3.x model. Every key
and shape must then fit MMDetection 3.x's model exactly (strict loading).
"""
import copy

import pytest
import torch

from detection_helpers import build_mmdet_model, random_detection_batch
from mmdet_bags.converters import (convert_bags_checkpoint,
                                   convert_checkpoint_file)

MASK_RCNN = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
HTC = 'mmdet::htc/htc_r50_fpn_1x_coco.py'
V05_CLASSES, V05_ROWS = 1230, 1236


def bags_stage(stage, num_classes):
    stage = copy.deepcopy(stage)
    stage.pop('loss_cls', None)
    stage.update(type='BAGSBBoxHead', num_classes=num_classes, groups=None)
    return stage


# MMDetection 3.x's own v1 inference settings (configs/legacy_1.x), as the
# README passes them with --cfg-options.
V1_LEGACY_OPTIONS = {
    'model.rpn_head.anchor_generator.type': 'LegacyAnchorGenerator',
    'model.rpn_head.anchor_generator.center_offset': 0.5,
    'model.rpn_head.bbox_coder.type': 'LegacyDeltaXYWHBBoxCoder',
    'model.roi_head.bbox_roi_extractor.roi_layer.aligned': False,
    'model.roi_head.bbox_roi_extractor.roi_layer.sampling_ratio': 2,
    'model.roi_head.mask_roi_extractor.roi_layer.aligned': False,
    'model.roi_head.mask_roi_extractor.roi_layer.sampling_ratio': 2,
    'model.roi_head.bbox_head.bbox_coder.type': 'LegacyDeltaXYWHBBoxCoder',
    'model.test_cfg.rpn.nms.offset': 1,
    'model.test_cfg.rcnn.nms.offset': 1,
}


def mask_rcnn(num_classes, options=None):
    """MMDetection's Mask R-CNN with a BAGSBBoxHead(groups=None); ResNet-18
    (same key names as ResNet-50, in v1 as in 3.x) to stay fast on CPU."""
    def modify(cfg):
        cfg.model.backbone.depth = 18
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        cfg.model.roi_head.bbox_head = bags_stage(
            cfg.model.roi_head.bbox_head, num_classes)
        cfg.model.roi_head.mask_head.num_classes = num_classes
        # few proposals and detections: only the wiring is under test
        cfg.model.test_cfg.rpn.update(nms_pre=100, max_per_img=20)
        cfg.model.test_cfg.rcnn.max_per_img = 10
        cfg.merge_from_dict(options or {})
    return build_mmdet_model(MASK_RCNN, modify=modify)


def random_like(state, keys, generator):
    return {key: torch.randn(state[key].shape, generator=generator)
            for key in keys}


def same_in_v1_and_v3(state):
    return [key for key in state
            if key.startswith(('backbone.', 'neck.', 'rpn_head.'))]


def v1_box_head(state, v1_prefix, v3_prefix, fc_reg_rows, generator):
    names = ['shared_fcs.0.weight', 'shared_fcs.0.bias', 'shared_fcs.1.weight',
             'shared_fcs.1.bias']
    weights = {v1_prefix + name: torch.randn(
        state[v3_prefix + name].shape, generator=generator) for name in names}
    in_features = state[v3_prefix + 'fc_reg.weight'].size(1)
    weights.update({
        v1_prefix + 'fc_cls.weight': torch.randn(V05_ROWS, in_features),
        v1_prefix + 'fc_cls.bias': torch.randn(V05_ROWS),
        v1_prefix + 'fc_reg.weight': torch.randn(fc_reg_rows, in_features),
        v1_prefix + 'fc_reg.bias': torch.randn(fc_reg_rows),
    })
    return weights


def v1_mask_head(state, v1_prefix, v3_prefix, generator, conv_res_from=None):
    names = [f'convs.{i}.conv.{p}' for i in range(4)
             for p in ('weight', 'bias')] + ['upsample.weight',
                                             'upsample.bias']
    weights = {v1_prefix + name: torch.randn(
        state[v3_prefix + name].shape, generator=generator) for name in names}
    channels = state[v3_prefix + 'conv_logits.weight'].size(1)
    weights[v1_prefix + 'conv_logits.weight'] = torch.randn(
        V05_CLASSES + 1, channels, 1, 1)
    weights[v1_prefix + 'conv_logits.bias'] = torch.randn(V05_CLASSES + 1)
    if conv_res_from is not None:
        for p in ('weight', 'bias'):
            weights[f'{v1_prefix}conv_res.conv.{p}'] = torch.randn(
                state[f'{conv_res_from}conv_res.conv.{p}'].shape)
    return weights


@pytest.mark.slow
def test_original_mask_rcnn_loads_strictly_and_predicts_with_v1_settings(
        tmp_path):
    torch.manual_seed(0)
    model, cfg = mask_rcnn(V05_CLASSES, V1_LEGACY_OPTIONS)
    assert type(model.rpn_head.prior_generator).__name__ == \
        'LegacyAnchorGenerator'
    assert model.roi_head.bbox_roi_extractor.roi_layers[0].aligned is False
    state = model.state_dict()
    generator = torch.Generator().manual_seed(0)
    v1 = random_like(state, same_in_v1_and_v3(state), generator)
    v1.update(v1_box_head(state, 'bbox_head.', 'roi_head.bbox_head.',
                          4 * (V05_CLASSES + 1), generator))
    v1.update(v1_mask_head(state, 'mask_head.', 'roi_head.mask_head.',
                           generator))
    torch.save(dict(meta=dict(mmdet_version='1.0rc0'), state_dict=v1),
               tmp_path / 'gs_mask_rcnn_r50_fpn_1x_lvis.pth')
    convert_checkpoint_file(str(tmp_path / 'gs_mask_rcnn_r50_fpn_1x_lvis.pth'),
                            str(tmp_path / 'converted.pth'), 'original')

    from mmengine.runner.checkpoint import load_checkpoint
    load_checkpoint(model, str(tmp_path / 'converted.pth'),
                    map_location='cpu', strict=True)
    assert torch.equal(model.rpn_head.rpn_cls.weight,
                       v1['rpn_head.rpn_cls.weight'])
    assert torch.equal(model.roi_head.bbox_head.fc_reg.weight,
                       v1['bbox_head.fc_reg.weight'][4:])
    assert model.roi_head.bbox_head.layout.group_sizes == (294, 453, 302,
                                                           181)
    model.eval()
    with torch.no_grad():
        results = model.test_step(random_detection_batch(
            num_images=1, image_size=(96, 96), num_classes=V05_CLASSES))
    # Random v1 weights on a random image guarantee no proposal, so only
    # what is predicted is checked (the wiring is under test here).
    for result in results:
        pred = result.pred_instances
        assert len(pred) <= cfg.model.test_cfg.rcnn.max_per_img
        if len(pred):
            assert 0 <= pred.scores.min() and pred.scores.max() <= 1
            assert pred.labels.max() < V05_CLASSES
            assert tuple(pred.masks.shape[1:]) == (96, 96)


@pytest.mark.slow
def test_original_htc_with_semantic_head_and_dcn_loads_strictly():
    def modify(cfg):
        roi_head = cfg.model.roi_head
        roi_head.bbox_head = [bags_stage(stage, V05_CLASSES)
                              for stage in roi_head.bbox_head]
        for stage in roi_head.mask_head:
            stage.num_classes = V05_CLASSES
        cfg.model.backbone.update(
            dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
            stage_with_dcn=(False, True, True, True))

    torch.manual_seed(0)
    model, _ = build_mmdet_model(HTC, modify=modify)
    state = model.state_dict()
    generator = torch.Generator().manual_seed(2)
    # v1 deformable blocks keep the offset conv beside conv2
    v1 = {key.replace('.conv2.conv_offset.', '.conv2_offset.'): value
          for key, value in random_like(state, same_in_v1_and_v3(state),
                                        generator).items()}
    assert 'backbone.layer2.0.conv2_offset.weight' in v1
    for stage in range(3):
        v1.update(v1_box_head(state, f'bbox_head.{stage}.',
                              f'roi_head.bbox_head.{stage}.', 4, generator))
        # v1 HTCMaskHead always builds conv_res, stage 0's included
        v1.update(v1_mask_head(state, f'mask_head.{stage}.',
                               f'roi_head.mask_head.{stage}.', generator,
                               conv_res_from='roi_head.mask_head.1.'))
    semantic = [key for key in state
                if key.startswith('roi_head.semantic_head.')]
    assert 'roi_head.semantic_head.conv_logits.weight' in semantic
    for key in semantic:
        v1[key[len('roi_head.'):]] = torch.randn(state[key].shape)

    converted = convert_bags_checkpoint(dict(state_dict=v1), 'original')
    out = converted.checkpoint['state_dict']
    model.load_state_dict(out, strict=True)
    assert torch.equal(out['backbone.layer3.1.conv2.conv_offset.bias'],
                       v1['backbone.layer3.1.conv2_offset.bias'])
    assert torch.equal(out['roi_head.semantic_head.conv_logits.weight'],
                       v1['semantic_head.conv_logits.weight'])  # 183 stuff
    assert torch.equal(out['roi_head.mask_head.2.conv_logits.bias'],
                       v1['mask_head.2.conv_logits.bias'][1:])
    assert not any('mask_head.0.conv_res' in key for key in out)
    assert any('HTC: unused' in change for change in converted.changes)


def test_eqlv2_mask_rcnn_loads_strictly():
    model, _ = mask_rcnn(1203)
    state = model.state_dict()
    generator = torch.Generator().manual_seed(3)
    eqlv2 = random_like(
        state, [key for key in state if 'loss_cls' not in key], generator)
    in_features = eqlv2['roi_head.bbox_head.fc_cls.weight'].size(1)
    eqlv2['roi_head.bbox_head.fc_cls.weight'] = torch.randn(1209, in_features)
    eqlv2['roi_head.bbox_head.fc_cls.bias'] = torch.randn(1209)
    converted = convert_bags_checkpoint(
        dict(meta=dict(mmdet_version='2.3.0'), state_dict=eqlv2), 'eqlv2')
    model.load_state_dict(converted.checkpoint['state_dict'], strict=True)
    assert model.roi_head.bbox_head.layout.group_sizes == (200, 412, 334, 257)
    unchanged = [key for key in eqlv2 if 'fc_cls' not in key]
    for key in unchanged:
        assert torch.equal(converted.checkpoint['state_dict'][key],
                           eqlv2[key]), key
