# BAGS end-to-end in Mask R-CNN R50-FPN 1x on COCO-LT (same data, schedule and
# test settings as mask-rcnn_r50_fpn_random-1x_coco-lt.py). The groups are
# counted from the COCO-LT training file with COCO-LT's own bin edges, so
# each BAGS group is one of the evaluation bins.
_base_ = './mask-rcnn_r50_fpn_random-1x_coco-lt.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            groups={{_base_.coco_lt_groups}},
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0))))

custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='RandomStateHook')
]
