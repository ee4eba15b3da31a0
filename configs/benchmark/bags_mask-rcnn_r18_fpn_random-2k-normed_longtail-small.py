# Benchmark variant (opt-in): BAGS end-to-end with a cosine classifier, the
# one change of ../bags/bags_mask-rcnn_r50_fpn_random-ms-1x-normed_lvis-v1.py
# (NormedLinear, temperature 20, as MMDetection's Seesaw LVIS configs) on the
# benchmark's end-to-end BAGS.
_base_ = './bags_mask-rcnn_r18_fpn_random-2k_longtail-small.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
