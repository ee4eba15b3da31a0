# BAGS decoupled on LVIS v0.5 (the paper's dataset): MMDetection's LVIS v0.5
# Mask R-CNN R50-FPN 2x checkpoint, classifier-only training 12 epochs
# (see bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py for the recipe).
# Paper (official code): Mask R-CNN R50-FPN BAGS 25.76 box / 26.25 mask AP.
_base_ = [
    'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-2x_lvis-v0.5.py',
    './_base_/decoupled-12e.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            groups='lvis_v0.5',  # instance counts of the LVIS v0.5 train set
            bin_edges=(10, 100, 1000),
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0))),
    # MMDetection's LVIS default is 0.0001; the paper tested BAGS at 0.001.
    test_cfg=dict(rcnn=dict(score_thr=0.001, max_per_img=300)))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV05Dataset',
        data_root='data/lvis_v0.5/',
        ann_file='annotations/lvis_v0.5_train.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args={{_base_.backend_args}}))

# The decoupled recipe's training: classifier only, 12 epochs, lr 0.01
# (configs/bags/_base_/decoupled-12e.py).
custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.decoupled_optim_wrapper}}
train_cfg = {{_base_.decoupled_train_cfg}}
param_scheduler = {{_base_.decoupled_param_scheduler}}

load_from = 'https://download.openmmlab.com/mmdetection/v2.0/lvis/mask_rcnn_r50_fpn_sample1e-3_mstrain_2x_lvis/mask_rcnn_r50_fpn_sample1e-3_mstrain_2x_lvis-dbd06831.pth'  # noqa: E501
