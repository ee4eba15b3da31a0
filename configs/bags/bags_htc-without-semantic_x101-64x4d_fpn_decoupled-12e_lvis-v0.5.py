# BAGS decoupled in Hybrid Task Cascade X101-64x4d-FPN on LVIS v0.5 WITHOUT
# the semantic branch (for users without the COCO-stuff maps; the paper's HTC
# has it: bags_htc_x101-64x4d_fpn_decoupled-12e_lvis-v0.5.py). Take a trained
# plain-softmax HTC without the branch
# (configs/baselines/htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py,
# --cfg-options load_from=work_dirs/.../epoch_20.pth), re-initialise every
# stage's classifier for the BAGS groups and train only the three fc_cls
# layers with the original's second-stage recipe and HTC lr 0.005.
_base_ = [
    './bags_htc-without-semantic_x101-64x4d_fpn_random-20e_lvis-v0.5.py',
    './_base_/paper-recipe.py'
]

model = {{_base_.paper_model}}
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.paper_train_pipeline}}))

# The paper's decoupled stage (configs/bags/_base_/paper-recipe.py): only
# fc_cls trains; single-scale data, lr 0.005 at batch 16 (the
# original's HTC value), warm-up from 1/3,
# gradient clipping at 35, 12 epochs (steps 8, 11), 2000 training proposals;
# test at score threshold 0.001, NMS IoU 0.5, 300 detections.
custom_hooks = {{_base_.decoupled_custom_hooks}}
model_wrapper_cfg = {{_base_.decoupled_model_wrapper_cfg}}
optim_wrapper = {{_base_.paper_optim_wrapper_htc}}
train_cfg = {{_base_.paper_train_cfg}}
param_scheduler = {{_base_.paper_param_scheduler}}
load_from = None  # the trained baseline HTC (see above)
