# BAGS end-to-end, LVIS v1 Mask R-CNN R101-FPN 1x (see the R50 config).
_base_ = './bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
