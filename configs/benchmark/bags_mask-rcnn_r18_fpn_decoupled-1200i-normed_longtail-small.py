# Benchmark variant (opt-in): BAGS decoupled with a cosine classifier, the
# one change of ../bags/bags_mask-rcnn_r50_fpn_decoupled-12e-normed_lvis-v1.py
# (NormedLinear, temperature 20, as MMDetection's Seesaw LVIS configs) on the
# benchmark's decoupled BAGS.
_base_ = './bags_mask-rcnn_r18_fpn_decoupled-1200i_longtail-small.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
