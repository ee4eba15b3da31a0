# BAGS end-to-end in Cascade Mask R-CNN R50-FPN 1x on COCO-LT: all three
# stages have a BAGS classifier with the COCO-LT groups (COCO-LT's bin edges)
# and class-agnostic regression; at test time the stages' raw logits are
# averaged and BAGS-activated once.
_base_ = './cascade-mask-rcnn_r50_fpn_random-1x_coco-lt.py'

model = dict(
    roi_head=dict(
        # A list replaces the base list: every stage is restated.
        bbox_head=[
            dict(
                type='BAGSBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=80,
                groups={{_base_.coco_lt_groups}},
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
        ]))

custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='RandomStateHook')
]
