# BAGS decoupled in Cascade Mask R-CNN R50-FPN on LVIS v1: start from a
# trained plain-softmax cascade and train only the three stages' classifiers
# (the paper's recipe; see bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py).
#
# MMDetection publishes no LVIS cascade baseline: train one first with
#   configs/baselines/cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py
# and pass it:  --cfg-options load_from=work_dirs/<baseline>/epoch_24.pth
# (TrainClassifierOnlyHook refuses to start without load_from.)
_base_ = './bags_cascade-mask-rcnn_r50_fpn_random-ms-2x_lvis-v1.py'

model = dict(
    # MMDetection's LVIS default is 0.0001; the paper tested BAGS at 0.001.
    test_cfg=dict(rcnn=dict(score_thr=0.001, max_per_img=300)))

# Only every stage's fc_cls trains; everything else, BatchNorm statistics
# included, stays as in the checkpoint.
custom_hooks = [
    dict(type='TrainClassifierOnlyHook', trainable=('fc_cls', )),
    dict(type='RandomStateHook'),  # resume repeats an uninterrupted run
]
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

optim_wrapper = dict(optimizer=dict(lr=0.01))  # batch 16 (8 GPUs x 2)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=12)
param_scheduler = [
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

load_from = None
