# BAGS end-to-end: MMDetection's LVIS v1 Mask R-CNN R50-FPN 1x with the
# Balanced Group Softmax classifier trained together with the whole detector.
# Changes from the base config: the bbox head (BAGS, groups from the LVIS v1
# training counts) and plain ("random") image sampling instead of
# repeat-factor sampling, since BAGS balances the classifier itself.
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            groups='lvis_v1',  # instance counts of the LVIS v1 train set
            bin_edges=(10, 100, 1000),
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0))))

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
