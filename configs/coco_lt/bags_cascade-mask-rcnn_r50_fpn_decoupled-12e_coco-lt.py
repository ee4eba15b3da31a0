# BAGS decoupled in Cascade Mask R-CNN R50-FPN on COCO-LT: from the trained
# cascade baseline (cascade-mask-rcnn_r50_fpn_random-1x_coco-lt.py), train
# only the three stages' fc_cls for 12 epochs
# (configs/bags/_base_/decoupled-12e.py).
_base_ = [
    './bags_cascade-mask-rcnn_r50_fpn_random-1x_coco-lt.py',
    '../bags/_base_/decoupled-12e.py'
]

custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.decoupled_optim_wrapper}}
train_cfg = {{_base_.decoupled_train_cfg}}
param_scheduler = {{_base_.decoupled_param_scheduler}}
load_from = 'work_dirs/cascade-mask-rcnn_r50_fpn_random-1x_coco-lt/epoch_12.pth'
