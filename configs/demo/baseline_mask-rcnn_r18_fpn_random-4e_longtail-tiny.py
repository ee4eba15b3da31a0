# Demo: the plain-softmax baseline (MMDetection's own LVIS v1 Mask R-CNN
# config, plain sampling) on the generated tiny long-tail set, on CPU.
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
    './_base_/longtail-tiny_mask-rcnn_r18.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = {{_base_.demo_model}}
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
