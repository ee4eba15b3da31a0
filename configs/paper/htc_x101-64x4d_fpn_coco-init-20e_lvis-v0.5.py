# The paper's first stage for HTC X101-64x4d-FPN on LVIS v0.5, as the original
# trained it (README row (21), 31.28 box / 29.28 mask AP;
# configs/baselines/htc_x101_64x4d_fpn_20e_16gpu_lvis.py): HTC with its
# semantic branch (COCO-stuff maps, data layout in
# configs/baselines/_base_/htc-semantic_lvis-v0.5.py), fine-tuned from a
# COCO-trained HTC X101-64x4d for 20 epochs (steps 16, 19), single scale
# (1333, 800) + flip, plain image sampling, lr 0.01 at batch 16 (the original:
# 16 GPUs x 1 image; here 8 x 2), warm-up from 1/3, clipping at 35, 2000 RPN
# training proposals.
#
# load_from: MMDetection's COCO HTC X101-64x4d-FPN 20e (16 x 1), the
# counterpart of the mmdetection v1 "htc_x101_64x4d_fpn_20e" model the
# original's README names.
#
# Then: configs/paper/bags_htc_x101-64x4d_fpn_decoupled-12e-coco-init_lvis-v0.5.py
_base_ = [
    '../baselines/htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
    '../bags/_base_/paper-recipe.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    train_cfg=dict(rpn_proposal={{_base_.paper_rpn_proposal}}),
    test_cfg=dict(
        rpn={{_base_.paper_rpn_test}},
        # The original's HTC baseline: score threshold 0.001, 100 detections.
        rcnn=dict(
            score_thr=0.001,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))

optim_wrapper = {{_base_.paper_optim_wrapper}}
max_epochs = 20
train_cfg = dict(
    _delete_=True,
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 3,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[16, 19],
        gamma=0.1)
]
custom_hooks = [dict(type='FinetuneFromOtherClassesHook')]

load_from = 'https://download.openmmlab.com/mmdetection/v2.0/htc/htc_x101_64x4d_fpn_16x1_20e_coco/htc_x101_64x4d_fpn_16x1_20e_coco_20200318-b181fd7a.pth'  # noqa: E501
