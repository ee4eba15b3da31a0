# BAGS decoupled, Faster R-CNN R50-FPN on LVIS v0.5: the paper's headline row
# (official code: 25.96 box AP; APr 17.66, APc 25.75, APf 29.55; its softmax
# baseline 20.98). Start from the plain baseline you trained with
#   configs/baselines/faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py
#   --cfg-options load_from=work_dirs/<baseline>/epoch_24.pth
_base_ = [
    '../baselines/faster-rcnn_r50_fpn_random-ms-2x_lvis-v0.5.py',
    './_base_/decoupled-12e.py'
]
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            groups='lvis_v0.5',
            bin_edges=(10, 100, 1000),
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0))),
    # The paper's Faster R-CNN R50 result used score threshold 0.0.
    test_cfg=dict(rcnn=dict(score_thr=0.0, max_per_img=300)))

# The decoupled recipe's training: classifier only, 12 epochs, lr 0.01
# (configs/bags/_base_/decoupled-12e.py).
custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.decoupled_optim_wrapper}}
train_cfg = {{_base_.decoupled_train_cfg}}
param_scheduler = {{_base_.decoupled_param_scheduler}}

load_from = None
