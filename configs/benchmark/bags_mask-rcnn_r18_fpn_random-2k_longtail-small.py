# Benchmark: BAGS end-to-end (the real bags_mask-rcnn_r50_fpn_random-ms-1x_
# lvis-v1 config, benchmark data/backbone/schedule).
_base_ = [
    '../bags/bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py',
    './_base_/longtail-small_mask-rcnn_r18.py'
]

model = {{_base_.bench_bags_model}}
train_dataloader = {{_base_.bench_train_dataloader}}
val_dataloader = {{_base_.bench_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.bench_val_evaluator}}
test_evaluator = val_evaluator
train_cfg = {{_base_.bench_train_cfg}}
optim_wrapper = {{_base_.bench_optim_wrapper}}
param_scheduler = {{_base_.bench_param_scheduler}}
default_hooks = {{_base_.bench_default_hooks}}
log_processor = {{_base_.bench_log_processor}}
randomness = dict(seed=0)
