# Benchmark: MMDetection's Seesaw loss with its normalised classifier, plain
# sampling (MMDetection's own Seesaw LVIS config, benchmark data/backbone/
# schedule).
_base_ = [
    'mmdet::seesaw_loss/mask-rcnn_r50_fpn_seesaw-loss_random-ms-2x_lvis-v1.py',
    './_base_/longtail-small_mask-rcnn_r18.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = {{_base_.bench_seesaw_model}}
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
