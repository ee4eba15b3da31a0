# BAGS end-to-end, Cascade Mask R-CNN R101-FPN on LVIS v1 (see the R50
# config).
_base_ = './bags_cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
