# Plain-softmax Cascade Mask R-CNN R50-FPN on LVIS v1 (2x, multi-scale, plain
# image sampling): the baseline that the decoupled BAGS cascade starts from
# (MMDetection publishes none for LVIS).
# Not the original's first stage (a box-only Cascade R-CNN on LVIS v0.5,
# fine-tuned 1x single-scale from a COCO checkpoint): ImageNet-initialised,
# MMDetection's 2x multi-scale LVIS schedule, masks, LVIS v1 (docs/method.md,
# "coverage of the original's configs").
_base_ = [
    'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_2x.py', 'mmdet::_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(
        bbox_head=[
            dict(
                type='Shared2FCBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=1203,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=std),
                reg_class_agnostic=True,
                loss_cls=dict(
                    type='CrossEntropyLoss', use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=1.0))
            for std in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                        [0.033, 0.033, 0.067, 0.067])
        ],
        mask_head=dict(num_classes=1203)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args={{_base_.backend_args}}))
