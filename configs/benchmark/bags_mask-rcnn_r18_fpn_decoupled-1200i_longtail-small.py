# Benchmark: BAGS the paper's way (the real bags_mask-rcnn_r50_fpn_decoupled-
# 12e_lvis-v1 config: classifier only, lr 0.01, test score threshold 0.001)
# from a benchmark baseline (tools/benchmark_longtail.py sets load_from to
# the softmax or the repeat-factor-sampling baseline).
_base_ = [
    '../bags/bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py',
    './_base_/longtail-small_mask-rcnn_r18.py'
]

model = {{_base_.bench_bags_model}}
train_dataloader = {{_base_.bench_train_dataloader}}
val_dataloader = {{_base_.bench_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.bench_val_evaluator}}
test_evaluator = val_evaluator
train_cfg = {{_base_.bench_decoupled_train_cfg}}
param_scheduler = {{_base_.bench_decoupled_param_scheduler}}
default_hooks = {{_base_.bench_default_hooks}}
log_processor = {{_base_.bench_log_processor}}
randomness = dict(seed=0)
load_from = None  # set by tools/benchmark_longtail.py
