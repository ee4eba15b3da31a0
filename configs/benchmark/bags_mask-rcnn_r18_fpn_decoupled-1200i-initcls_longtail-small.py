# Benchmark variant (opt-in): BAGS decoupled whose class and background rows
# start from the baseline's classifier, the one change of
# ../bags/bags_mask-rcnn_r50_fpn_decoupled-12e-initcls_lvis-v1.py.
_base_ = './bags_mask-rcnn_r18_fpn_decoupled-1200i_longtail-small.py'

model = dict(roi_head=dict(bbox_head=dict(init_cls_from_baseline=True)))
