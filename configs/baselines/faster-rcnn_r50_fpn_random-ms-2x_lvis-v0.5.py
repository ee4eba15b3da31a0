# Plain-softmax Faster R-CNN R50-FPN on LVIS v0.5 (2x, multi-scale, plain
# image sampling, from ImageNet): a first stage for the decoupled BAGS
# Faster R-CNN. Not the paper's: the original fine-tuned a COCO detector 1x,
# single scale (configs/paper/faster-rcnn_r50_fpn_coco-init-1x_lvis-v0.5.py).
# MMDetection publishes no LVIS Faster R-CNN, so this inherits its model,
# LVIS v0.5 data and schedule files.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/lvis_v0.5_instance.py',
    'mmdet::_base_/schedules/schedule_2x.py', 'mmdet::_base_/default_runtime.py'
]

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1230)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                (1333, 768), (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV05Dataset',
        data_root='data/lvis_v0.5/',
        ann_file='annotations/lvis_v0.5_train.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator
