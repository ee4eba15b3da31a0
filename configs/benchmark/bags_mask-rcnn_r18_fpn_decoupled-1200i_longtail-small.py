# Benchmark: BAGS decoupled with the paper's recipe scaled to the benchmark's
# budget (R18, 1200 iterations, warm-up over 100 of them, 128 RoIs and 100
# detections per image; otherwise the real bags_mask-rcnn_r50_fpn_decoupled-
# 12e_lvis-v1 config, configs/bags/_base_/paper-recipe.py: classifier only,
# lr 0.01, warm-up from 1/3, gradient clipping at 35, 2000 training
# proposals, test score threshold 0.001 and NMS IoU 0.5; the detections and
# RoIs per image are the benchmark's for every method)
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
# The paper recipe's warm-up (linear from 1/3 of the lr, inherited) over 100
# of the benchmark's iterations, then its steps at 2/3 and 11/12.
param_scheduler = [
    dict(_base_.param_scheduler[0], end=100),
    {{_base_.bench_decoupled_steps}},
]
default_hooks = {{_base_.bench_default_hooks}}
log_processor = {{_base_.bench_log_processor}}
randomness = dict(seed=0)
load_from = None  # set by tools/benchmark_longtail.py
