# BAGS end-to-end in Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5 with
# HTC's semantic branch (COCO-stuff maps; data layout in
# configs/baselines/_base_/htc-semantic_lvis-v0.5.py): BAGS classifiers in
# all three stages, as bags_htc-without-semantic_x101-64x4d_fpn_random-20e_
# lvis-v0.5.py, plus the semantic branch of the paper's HTC.
_base_ = [
    './bags_htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
    '../baselines/_base_/htc-semantic_lvis-v0.5.py'
]

model = {{_base_.htc_semantic_model}}
train_dataloader = dict(
    dataset=dict(
        data_prefix={{_base_.htc_semantic_data_prefix}},
        pipeline={{_base_.htc_semantic_train_pipeline}}))
