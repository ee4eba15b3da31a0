# Benchmark variant (opt-in): the two changes that helped the benchmark's
# decoupled BAGS most, together: the cosine classifier of
# ./bags_mask-rcnn_r18_fpn_decoupled-1200i-normed_longtail-small.py
# (NormedLinear, temperature 20) trained on the 3x classifier schedule of
# ./bags_mask-rcnn_r18_fpn_decoupled-3600i_longtail-small.py. LVIS
# counterpart: ../bags/bags_mask-rcnn_r50_fpn_decoupled-36e-normed_lvis-v1.py.
_base_ = './bags_mask-rcnn_r18_fpn_decoupled-3600i_longtail-small.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='NormedLinear', tempearture=20))))
