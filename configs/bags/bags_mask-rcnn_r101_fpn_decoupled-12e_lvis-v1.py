# BAGS decoupled from MMDetection's LVIS v1 Mask R-CNN R101-FPN 1x
# checkpoint (see the R50 config for the recipe).
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/lvis/mask_rcnn_r101_fpn_sample1e-3_mstrain_1x_lvis_v1/mask_rcnn_r101_fpn_sample1e-3_mstrain_1x_lvis_v1-ec55ce32.pth'  # noqa: E501
