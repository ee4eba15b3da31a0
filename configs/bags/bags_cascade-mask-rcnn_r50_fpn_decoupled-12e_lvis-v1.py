# BAGS decoupled in Cascade Mask R-CNN R50-FPN on LVIS v1: start from a
# trained plain-softmax cascade and train only the three stages' classifiers
# (the paper's recipe; see bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py).
#
# MMDetection publishes no LVIS cascade baseline: train one first with
#   configs/baselines/cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py
# and pass it:  --cfg-options load_from=work_dirs/<baseline>/epoch_24.pth
# (TrainClassifierOnlyHook refuses to start without load_from.)
_base_ = [
    './bags_cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py',
    './_base_/decoupled-12e.py'
]

model = dict(
    # MMDetection's LVIS default is 0.0001; the paper tested BAGS at 0.001.
    test_cfg=dict(rcnn=dict(score_thr=0.001, max_per_img=300)))

# The decoupled recipe's training: classifier only, 12 epochs, lr 0.01
# (configs/bags/_base_/decoupled-12e.py).
custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.decoupled_optim_wrapper}}
train_cfg = {{_base_.decoupled_train_cfg}}
param_scheduler = {{_base_.decoupled_param_scheduler}}

load_from = None
