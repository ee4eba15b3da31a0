# Plain-softmax Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5 WITH its
# semantic branch (COCO-stuff maps; data layout in
# configs/baselines/_base_/htc-semantic_lvis-v0.5.py), as the paper's HTC
# (its baseline: 31.28 box / 29.28 mask AP): 20 epochs from ImageNet, plain
# image sampling, single-scale data. The paper's own first stage starts from
# MMDetection's COCO HTC instead: configs/paper/htc_x101-64x4d_fpn_coco-init-
# 20e_lvis-v0.5.py.
_base_ = [
    './htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
    './_base_/htc-semantic_lvis-v0.5.py'
]

model = {{_base_.htc_semantic_model}}
train_dataloader = dict(
    dataset=dict(
        data_prefix={{_base_.htc_semantic_data_prefix}},
        pipeline={{_base_.htc_semantic_train_pipeline}}))
