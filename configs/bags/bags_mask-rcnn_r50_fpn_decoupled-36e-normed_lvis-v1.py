# Opt-in variant (not the paper's recipe): BAGS decoupled with both the cosine
# classifier of bags_mask-rcnn_r50_fpn_decoupled-12e-normed_lvis-v1.py
# (MMDetection's NormedLinear, temperature 20) and the 3x classifier schedule
# of bags_mask-rcnn_r50_fpn_decoupled-36e_lvis-v1.py (36 epochs, steps at 24
# and 33). The long-tail benchmark's bags_decoupled_long_normed is this
# change (README, "Long-tail benchmark").
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-36e_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
