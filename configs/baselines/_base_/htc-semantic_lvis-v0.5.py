# HTC's semantic branch on LVIS v0.5, as in the paper's HTC (the original's
# configs/baselines/htc_x101_64x4d_fpn_20e_16gpu_lvis.py) and as MMDetection's
# COCO HTC (mmdet::htc/htc_r50_fpn_1x_coco.py): a FusedSemanticHead trained on
# the COCO-stuff "stuffthingmaps" (183 classes, 255 = ignore). LVIS v0.5 images
# are COCO 2017 images, so COCO-stuff's per-image maps apply unchanged.
#
# Expected data layout (data_root = data/lvis_v0.5/):
#   train2017/000000391895.jpg ...              COCO train2017 images
#   stuffthingmaps/train2017/000000391895.png   COCO-stuff maps, same names
#   annotations/lvis_v0.5_train.json
# (stuffthingmaps_trainval2017.zip from the COCO-stuff project, unzipped and
# renamed to stuffthingmaps/). MMDetection's dataset builds each map's path
# from the image's file name: data_prefix.seg + <name>.png.
#
# Names start with "htc_semantic_" so this file can sit beside a detector
# config in `_base_`.
htc_semantic_roi_extractor = dict(
    type='SingleRoIExtractor',
    roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
    out_channels=256,
    featmap_strides=[8])
htc_semantic_head = dict(
    type='FusedSemanticHead',
    num_ins=5,
    fusion_level=1,
    seg_scale_factor=1 / 8,
    num_convs=4,
    in_channels=256,
    conv_out_channels=256,
    num_classes=183,
    loss_seg=dict(type='CrossEntropyLoss', ignore_index=255, loss_weight=0.2))
htc_semantic_model = dict(
    data_preprocessor=dict(pad_seg=True),
    roi_head=dict(
        semantic_roi_extractor=htc_semantic_roi_extractor,
        semantic_head=htc_semantic_head))
htc_semantic_data_prefix = dict(
    img='train2017/', seg='stuffthingmaps/train2017/')
# Single scale (1333, 800) + flip, as the original trains both HTC stages.
htc_semantic_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='LoadAnnotations', with_bbox=True, with_mask=True, with_seg=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
