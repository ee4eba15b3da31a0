# BAGS end-to-end in Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5, without
# HTC's semantic branch (see bags_htc_x101-64x4d_fpn_random-20e_lvis-v0.5.py
# for the variant with it, as the paper's HTC): every
# one of the three stages has a BAGS classifier with the LVIS v0.5 groups and
# class-agnostic regression; at test time the stages' raw logits are
# averaged and BAGS-activated once (as in the BAGS cascade). Same detector,
# data and schedule as
# configs/baselines/htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py.
_base_ = '../baselines/htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py'
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=[
            dict(
                type='BAGSBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes={{_base_.num_classes}},
                groups='lvis_v0.5',  # instance counts of LVIS v0.5 train
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
            for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                         [0.033, 0.033, 0.067, 0.067])
        ]),
    # The paper tested BAGS at score threshold 0.001.
    test_cfg=dict(rcnn=dict(score_thr=0.001)))

custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='RandomStateHook')
]
