# The paper's first-stage recipe applied to LVIS v1 (the original code has
# LVIS v0.5 configs only): fine-tune MMDetection's COCO Mask R-CNN R50-FPN 2x
# on LVIS v1 for 12 epochs, single scale (1333, 800) + flip, plain image
# sampling, lr 0.01 at batch 16, warm-up from 1/3, clipping at 35, 2000 RPN
# training proposals (configs/bags/_base_/paper-recipe.py). See
# mask-rcnn_r50_fpn_coco-init-1x_lvis-v0.5.py for the sources.
#
# Then: configs/paper/bags_mask-rcnn_r50_fpn_decoupled-12e-coco-init_lvis-v1.py
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
    '../bags/_base_/paper-recipe.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

# Tested with the BAGS test settings (score threshold 0.001, 300 detections:
# LVIS v1's standard cap), not the original v0.5 baseline's 0.05 / 100, so
# that baseline and BAGS on LVIS v1 are compared under the same settings.
model = {{_base_.paper_model}}

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.paper_train_pipeline}},
        backend_args=None))

optim_wrapper = {{_base_.paper_optim_wrapper}}
train_cfg = {{_base_.paper_train_cfg}}
param_scheduler = {{_base_.paper_param_scheduler}}
custom_hooks = [dict(type='FinetuneFromOtherClassesHook')]

load_from = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_fpn_2x_coco/mask_rcnn_r50_fpn_2x_coco_bbox_mAP-0.392__segm_mAP-0.354_20200505_003907-3e542a40.pth'  # noqa: E501
