# Reproduce the paper, step 2 of 2: BAGS decoupled (the original's second
# stage, configs/bags/_base_/paper-recipe.py) from the paper's first stage
# configs/paper/mask-rcnn_r50_fpn_coco-init-1x_lvis-v1.py,
# whose last checkpoint `mim train` writes to load_from below.
# The original code's result for this row: none (the original has no LVIS v1 result).
_base_ = '../bags/bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'

load_from = 'work_dirs/mask-rcnn_r50_fpn_coco-init-1x_lvis-v1/epoch_12.pth'
