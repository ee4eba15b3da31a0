# BAGS decoupled, Faster R-CNN R50-FPN on LVIS v0.5: the paper's headline row
# (official code: 25.96 box AP; APr 17.66, APc 25.75, APf 29.55; its softmax
# baseline 20.98). Start from the plain baseline you trained with
#   configs/baselines/faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py
#   --cfg-options load_from=work_dirs/<baseline>/epoch_24.pth
_base_ = '../baselines/faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py'
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            groups='lvis_v0.5',
            bin_edges=(10, 100, 1000),
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0))),
    # The paper's Faster R-CNN R50 result used score threshold 0.0.
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=300)))

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
