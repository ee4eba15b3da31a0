# Opt-in variant (not the paper's recipe): BAGS end-to-end with a cosine
# (normalised) classifier, the NormedLinear of MMDetection's Seesaw LVIS
# configs with its temperature 20 (MMDetection spells the argument
# `tempearture`); everything else is
# bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py.
_base_ = './bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
