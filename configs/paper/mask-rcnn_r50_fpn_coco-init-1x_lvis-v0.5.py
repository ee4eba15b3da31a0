# The paper's first stage for Mask R-CNN R50-FPN on LVIS v0.5, as the original
# trained its baseline (FishYuLi/BalancedGroupSoftmax README row (19), 20.78
# box / 20.68 mask AP; configs/baselines/mask_rcnn_r50_fpn_1x_lvis.py):
# fine-tune a COCO-trained Mask R-CNN R50-FPN on LVIS v0.5 for 12 epochs,
# single scale (1333, 800) + flip, plain image sampling, lr 0.01 at batch 16,
# warm-up from 1/3, gradient clipping at 35, 2000 RPN training proposals
# (configs/bags/_base_/paper-recipe.py).
#
# load_from: MMDetection's COCO Mask R-CNN R50-FPN 2x, the counterpart of the
# mmdetection v1 "mask_rcnn_r50_fpn_2x" model the original's README names as
# its starting point. (The original's config has that load_from commented
# out; its README says the reported model was trained from it, which we
# follow.) FinetuneFromOtherClassesHook keeps the 80-class layers (fc_cls,
# fc_reg, conv_logits) at their initialisation and says so in one log line.
#
# Then: configs/paper/bags_mask-rcnn_r50_fpn_decoupled-12e-coco-init_lvis-v0.5.py
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-2x_lvis-v0.5.py',
    '../bags/_base_/paper-recipe.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    train_cfg=dict(rpn_proposal={{_base_.paper_rpn_proposal}}),
    test_cfg=dict(
        rpn={{_base_.paper_rpn_test}},
        # The original's baseline config tests at score threshold 0.05 with
        # 100 detections per image (its BAGS configs: 0.001 and 300).
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV05Dataset',
        data_root='data/lvis_v0.5/',
        ann_file='annotations/lvis_v0.5_train.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.paper_train_pipeline}},
        backend_args=None))

optim_wrapper = {{_base_.paper_optim_wrapper}}
train_cfg = {{_base_.paper_train_cfg}}
param_scheduler = {{_base_.paper_param_scheduler}}
custom_hooks = [dict(type='FinetuneFromOtherClassesHook')]

load_from = 'https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/mask_rcnn_r50_fpn_2x_coco/mask_rcnn_r50_fpn_2x_coco_bbox_mAP-0.392__segm_mAP-0.354_20200505_003907-3e542a40.pth'  # noqa: E501
