# BAGS end-to-end in Cascade Mask R-CNN R50-FPN on LVIS v1 (2x, as
# MMDetection's LVIS cascade configs in configs/seesaw_loss): all three stages
# have a BAGS classifier with the same groups and class-agnostic regression;
# at test time the stages' raw logits are averaged and BAGS-activated once.
# MMDetection publishes no plain LVIS cascade, so this inherits its cascade
# model, LVIS v1 data and schedule files directly.
_base_ = [
    'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_2x.py', 'mmdet::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        # A list replaces the base list: every stage is restated.
        bbox_head=[
            dict(
                type='BAGSBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=1203,
                groups='lvis_v1',
                bin_edges=(10, 100, 1000),
                others_sample_ratio=8.0,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=stds),
                reg_class_agnostic=True,
                loss_cls=dict(type='GroupSoftmaxLoss', loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=1.0))
            # The three stages differ only in their regression targets' stds.
            for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                         [0.033, 0.033, 0.067, 0.067])
        ],
        mask_head=dict(num_classes=1203)),
    test_cfg=dict(
        rcnn=dict(
            score_thr=0.0001,
            # LVIS allows up to 300
            max_per_img=300)))

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

# CheckGroupClassesHook refuses a dataset whose classes are not the groups'
# (e.g. another LVIS version); checkpoints keep the random generators' state,
# so that resume repeats an uninterrupted run (MMEngine keeps only the seed).
custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='RandomStateHook')
]
