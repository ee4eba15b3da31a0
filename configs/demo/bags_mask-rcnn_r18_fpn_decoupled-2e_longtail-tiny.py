# Demo: BAGS decoupled with the paper's recipe scaled to the demo (the real
# bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1 config: classifier-only
# training from the baseline, lr 0.01, warm-up from 1/3, clipping at 35, test
# score threshold 0.001; scaled: 2 epochs instead of 12, warm-up over 50
# iterations, the demo's backbone, data and detections per image) on the
# generated tiny long-tail set, on CPU.
# load_from: the demo baseline's checkpoint (make demo passes it).
_base_ = [
    '../bags/bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py',
    './_base_/longtail-tiny_mask-rcnn_r18.py'
]

model = {{_base_.demo_bags_model}}
train_dataloader = {{_base_.demo_train_dataloader}}
val_dataloader = {{_base_.demo_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.demo_val_evaluator}}
test_evaluator = val_evaluator
train_cfg = {{_base_.demo_decoupled_train_cfg}}
param_scheduler = {{_base_.demo_decoupled_param_scheduler}}
default_hooks = {{_base_.demo_default_hooks}}
randomness = dict(seed=0)
load_from = 'work_dirs/demo/baseline/epoch_4.pth'
