# The paper's 8-bin ablation: BAGS decoupled with the instance-count bins
# [0, 5), [5, 10), [10, 50), [50, 100), [100, 500), [500, 1000),
# [1000, 5000), [5000, inf) instead of the default four; everything else is
# bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py.
_base_ = './bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'

model = dict(
    roi_head=dict(
        bbox_head=dict(bin_edges=(5, 10, 50, 100, 500, 1000, 5000))))
