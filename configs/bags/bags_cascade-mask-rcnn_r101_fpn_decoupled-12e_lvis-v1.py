# BAGS decoupled, Cascade Mask R-CNN R101-FPN on LVIS v1, from a cascade
# baseline you trained:  --cfg-options load_from=<baseline checkpoint>
# (its first stage differs from the original's cascade: see the R50 config).
_base_ = './bags_cascade-mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
