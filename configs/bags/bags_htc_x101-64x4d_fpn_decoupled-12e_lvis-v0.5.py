# BAGS decoupled in Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5, the
# paper's strongest result (official code: 33.68 box / 31.20 mask AP, from a
# 31.28 / 29.28 baseline): take a trained plain-softmax HTC, re-initialise
# every stage's classifier for the BAGS groups and train only the three
# fc_cls layers for 12 epochs (configs/bags/_base_/decoupled-12e.py).
# MMDetection publishes no LVIS HTC checkpoint: train
# configs/baselines/htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py first and pass
# it with --cfg-options load_from=work_dirs/.../epoch_20.pth.
_base_ = [
    './bags_htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
    './_base_/decoupled-12e.py'
]

custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.decoupled_optim_wrapper}}
train_cfg = {{_base_.decoupled_train_cfg}}
param_scheduler = {{_base_.decoupled_param_scheduler}}
load_from = None  # the trained baseline HTC (see above)
