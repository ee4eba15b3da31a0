# Plain-softmax Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5 (20 epochs,
# plain image sampling) WITHOUT the semantic branch: for users who do not
# have the COCO-stuff maps. The paper's HTC keeps the branch (LVIS images are
# COCO images, so COCO-stuff's maps apply): see
# htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py. MMDetection publishes no LVIS
# HTC, so this takes its HTC without the semantic branch, the X101-64x4d
# backbone and 20-epoch schedule of its COCO HTC X101 configs, and LVIS v0.5
# data.
_base_ = 'mmdet::htc/htc-without-semantic_r50_fpn_1x_coco.py'

num_classes = 1230
model = dict(
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=64,
        base_width=4,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnext101_64x4d')),
    roi_head=dict(
        # Lists replace the base lists: every stage is restated.
        bbox_head=[
            dict(
                type='Shared2FCBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=num_classes,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=stds),
                reg_class_agnostic=True,
                loss_cls=dict(
                    type='CrossEntropyLoss', use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=1.0))
            for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                         [0.033, 0.033, 0.067, 0.067])
        ],
        mask_head=[
            dict(
                type='HTCMaskHead',
                # Stages 2 and 3 take the previous stage's mask features.
                with_conv_res=stage > 0,
                num_convs=4,
                in_channels=256,
                conv_out_channels=256,
                num_classes=num_classes,
                loss_mask=dict(
                    type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))
            for stage in range(3)
        ]),
    # LVIS: up to 300 detections per image.
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

data_root = 'data/lvis_v0.5/'
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='LVISV05Dataset',
        data_root=data_root,
        ann_file='annotations/lvis_v0.5_train.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args={{_base_.backend_args}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV05Dataset',
        data_root=data_root,
        ann_file='annotations/lvis_v0.5_val.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
        backend_args={{_base_.backend_args}}))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='LVISMetric',
    ann_file=data_root + 'annotations/lvis_v0.5_val.json',
    metric=['bbox', 'segm'],
    backend_args={{_base_.backend_args}})
test_evaluator = val_evaluator

# 20 epochs, steps at 16 and 19 (MMDetection's HTC X101 schedule), batch 16.
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[16, 19],
        gamma=0.1)
]
