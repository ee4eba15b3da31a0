# Reproduce the paper, step 2 of 2: BAGS decoupled (the original's second
# stage, configs/bags/_base_/paper-recipe.py) from the paper's first stage
# configs/paper/faster-rcnn_r50_fpn_coco-init-1x_lvis-v0.5.py,
# whose last checkpoint `mim train` writes to load_from below.
# The original code's result for this row: 25.96 box AP.
_base_ = '../bags/bags_faster-rcnn_r50_fpn_decoupled-12e_lvis-v0.5.py'

load_from = 'work_dirs/faster-rcnn_r50_fpn_coco-init-1x_lvis-v0.5/epoch_12.pth'
