# Demo: BAGS end-to-end (the real bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1
# config) on the generated tiny long-tail set, on CPU, with the baseline's
# data, backbone and schedule.
_base_ = [
    '../bags/bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py',
    './_base_/longtail-tiny_mask-rcnn_r18.py'
]

model = {{_base_.demo_bags_model}}
train_dataloader = {{_base_.demo_train_dataloader}}
val_dataloader = {{_base_.demo_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.demo_val_evaluator}}
test_evaluator = val_evaluator
train_cfg = {{_base_.demo_train_cfg}}
optim_wrapper = {{_base_.demo_optim_wrapper}}
param_scheduler = {{_base_.demo_param_scheduler}}
default_hooks = {{_base_.demo_default_hooks}}
randomness = dict(seed=0)
