# Opt-in variant (not the paper's recipe): BAGS decoupled with a cosine
# (normalised) classifier, the NormedLinear of MMDetection's Seesaw LVIS
# configs with its temperature 20 (MMDetection spells the argument
# `tempearture`). The fresh BAGS classifier is a NormedLinear; everything
# else is bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py.
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
