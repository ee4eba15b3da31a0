# Reproduce the paper, step 2 of 2: BAGS decoupled (the original's second
# stage, configs/bags/_base_/paper-recipe.py) from the paper's first stage
# configs/paper/htc_x101-64x4d_fpn_coco-init-20e_lvis-v0.5.py,
# whose last checkpoint `mim train` writes to load_from below.
# The original code's result for this row: 33.68 box / 31.20 mask AP.
_base_ = '../bags/bags_htc_x101-64x4d_fpn_decoupled-12e_lvis-v0.5.py'

load_from = 'work_dirs/htc_x101-64x4d_fpn_coco-init-20e_lvis-v0.5/epoch_20.pth'
