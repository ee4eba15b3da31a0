# BAGS decoupled in Mask R-CNN R50-FPN on COCO-LT: from the trained baseline
# (mask-rcnn_r50_fpn_random-1x_coco-lt.py; `mim train` writes its last
# checkpoint to the load_from path below), re-initialise the classifier for
# the BAGS groups and train only fc_cls for 12 epochs
# (configs/bags/_base_/paper-recipe.py).
_base_ = [
    './bags_mask-rcnn_r50_fpn_random-1x_coco-lt.py',
    '../bags/_base_/paper-recipe.py'
]

model = dict(
    train_cfg=dict(rpn_proposal={{_base_.paper_rpn_proposal}}),
    test_cfg=dict(
        rpn={{_base_.paper_rpn_test}},
        # A difference on purpose: COCO's evaluation (and this COCO-LT
        # baseline) keeps 100 detections per image, not LVIS's 300.
        rcnn=dict(
            score_thr=0.001,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100)))
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.paper_train_pipeline}}))

# The paper's decoupled stage (configs/bags/_base_/paper-recipe.py): only
# fc_cls trains; single-scale data, lr 0.01 at batch 16, warm-up from 1/3,
# gradient clipping at 35, 12 epochs (steps 8, 11), 2000 training proposals;
# test as set above.
custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.paper_optim_wrapper}}
train_cfg = {{_base_.paper_train_cfg}}
param_scheduler = {{_base_.paper_param_scheduler}}
load_from = 'work_dirs/mask-rcnn_r50_fpn_random-1x_coco-lt/epoch_12.pth'
