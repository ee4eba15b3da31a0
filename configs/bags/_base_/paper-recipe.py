# The paper's training recipe, as the original code runs it
# (FishYuLi/BalancedGroupSoftmax, configs/bags/*.py, configs/baselines/*.py and
# tools/train.py). Its second stage is shared by every *_decoupled-12e_*
# config: take a trained detector, give it a fresh BAGS classifier and train
# only fc_cls (every stage's in a cascade). The original trains its 1x
# first-stage baselines (configs/paper/) with the same data, optimiser,
# warm-up, clipping, schedule and proposals, so they use the paper_* pieces
# too (and not the decoupled_* hooks).
#
#   data        single scale: resize to (1333, 800) keeping the ratio, plus
#               horizontal flip (prob 0.5); plain image sampling (no
#               repeat-factor sampling)
#   optimiser   SGD lr 0.01 at batch 16 (8 GPUs x 2 images), momentum 0.9,
#               weight decay 1e-4 (MMDetection's defaults)
#   warm-up     linear from 1/3 of the lr over 500 iterations
#   clipping    gradient L2 norm clipped at 35
#   schedule    12 epochs, lr x0.1 at epochs 8 and 11
#   proposals   2000 RPN proposals per image in training, 1000 at test
#   RoIs        512 per image, 25 % positives (MMDetection's default sampler)
#   test        score threshold 0.001, per-class NMS IoU 0.5, 300 detections
#
# Names start with "paper_" / "decoupled_" so this file can sit beside a
# detector config in `_base_` (bases may not define the same keys); configs
# pick the pieces up with `{{_base_.paper_...}}`.

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

# Single-scale training data (MMDetection's LVIS configs train multi-scale).
paper_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
# The same for box-only detectors (Faster R-CNN).
paper_train_pipeline_bbox = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]

paper_optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
paper_train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=12, val_interval=12)
paper_param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0 / 3,
        by_epoch=False,
        begin=0,
        end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]

# Merged into model.train_cfg / model.test_cfg (dicts merge key by key, so a
# cascade's per-stage rcnn train settings are untouched).
paper_rpn_proposal = dict(
    nms_pre=2000, max_per_img=2000, nms=dict(type='nms', iou_threshold=0.7),
    min_bbox_size=0)
paper_rpn_test = dict(
    nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7),
    min_bbox_size=0)
paper_rcnn_test = dict(
    score_thr=0.001,
    nms=dict(type='nms', iou_threshold=0.5),
    max_per_img=300,
    mask_thr_binary=0.5)
# Everything model-side, merged into the detector's train_cfg / test_cfg.
paper_model = dict(
    train_cfg=dict(rpn_proposal=paper_rpn_proposal),
    test_cfg=dict(rpn=paper_rpn_test, rcnn=paper_rcnn_test))
# The original's HTC BAGS stage: lr 0.005 at batch 16 (16 GPUs x 1 image,
# configs/bags/gs_htc_x101_64x4d_fpn_20e_16gpu_lvis.py); the rest as above.
paper_optim_wrapper_htc = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
