# BAGS decoupled, Cascade Mask R-CNN X101-64X4D-FPN on LVIS v1, from a cascade
# baseline you trained:  --cfg-options load_from=<baseline checkpoint>
# (its first stage differs from the original's cascade: see the R50 config).
_base_ = './bags_cascade-mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'
model = dict(
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=64,
        base_width=4,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnext101_64x4d')))
