# The second stage of the paper's decoupled recipe, shared by every
# *_decoupled-12e_* config: train only the classifier fc_cls (every stage's
# in a cascade) of a trained detector for 12 epochs, SGD lr 0.01 at batch 16
# (8 GPUs x 2), 500-iteration warm-up, steps at epochs 8 and 11.
# Names start with "decoupled_" so this file can sit beside a detector
# config in `_base_` (bases may not define the same keys); the decoupled
# configs pick the pieces up with `{{_base_.decoupled_...}}`.

# Everything but fc_cls, BatchNorm statistics included, stays as in the
# checkpoint; RandomStateHook makes resume repeat an uninterrupted run;
# CheckGroupClassesHook refuses a dataset whose classes are not the groups'.
decoupled_custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='TrainClassifierOnlyHook', trainable=('fc_cls', )),
    dict(type='RandomStateHook'),
]
# DDP must allow the frozen parameters to get no gradient.
decoupled_model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
decoupled_optim_wrapper = dict(optimizer=dict(lr=0.01))
decoupled_train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=12, val_interval=12)
decoupled_param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
