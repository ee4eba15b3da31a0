# Opt-in variant (not the paper's recipe): BAGS decoupled whose classifier
# starts from the baseline's: each class's and background's row is copied
# from the softmax checkpoint's fc_cls (init_cls_from_baseline=True), only
# the "foreground" and "others" rows start fresh. The paper initialises the
# whole classifier at random; everything else is
# bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py.
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'

model = dict(roi_head=dict(bbox_head=dict(init_cls_from_baseline=True)))
