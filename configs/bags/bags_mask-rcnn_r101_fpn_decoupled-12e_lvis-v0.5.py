# BAGS decoupled from MMDetection's LVIS v0.5 Mask R-CNN R101-FPN 2x
# checkpoint (see the R50 config).
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v0.5.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/lvis/mask_rcnn_r101_fpn_sample1e-3_mstrain_2x_lvis/mask_rcnn_r101_fpn_sample1e-3_mstrain_2x_lvis-54582ee2.pth'  # noqa: E501
