# The paper's first stage for its headline row, Faster R-CNN R50-FPN on LVIS
# v0.5, as the original trained it (README row (1), 20.98 box AP;
# configs/baselines/faster_rcnn_r50_fpn_1x_lvis.py): fine-tune a COCO-trained
# Faster R-CNN R50-FPN for 12 epochs, single scale (1333, 800) + flip, plain
# image sampling, lr 0.01 at batch 16, warm-up from 1/3, clipping at 35, 2000
# RPN training proposals (configs/bags/_base_/paper-recipe.py).
#
# load_from: MMDetection's COCO Faster R-CNN R50-FPN 2x, the counterpart of the
# mmdetection v1 "faster_rcnn_r50_fpn_2x" model the original starts from.
# FinetuneFromOtherClassesHook keeps fc_cls / fc_reg at their initialisation.
#
# Then: configs/paper/bags_faster-rcnn_r50_fpn_decoupled-12e-coco-init_lvis-v0.5.py
_base_ = [
    '../baselines/faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py',
    '../bags/_base_/paper-recipe.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    train_cfg=dict(rpn_proposal={{_base_.paper_rpn_proposal}}),
    test_cfg=dict(
        rpn={{_base_.paper_rpn_test}},
        # The original's Faster R-CNN R50 baseline: score threshold 0.0,
        # 300 detections per image.
        rcnn=dict(
            score_thr=0.0,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=300)))
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.paper_train_pipeline_bbox}}))

optim_wrapper = {{_base_.paper_optim_wrapper}}
train_cfg = {{_base_.paper_train_cfg}}
param_scheduler = {{_base_.paper_param_scheduler}}
custom_hooks = [dict(type='FinetuneFromOtherClassesHook')]

load_from = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_2x_coco/faster_rcnn_r50_fpn_2x_coco_bbox_mAP-0.384_20200504_210434-a5d8aa15.pth'  # noqa: E501
