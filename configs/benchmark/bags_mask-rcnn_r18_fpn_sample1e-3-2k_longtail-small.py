# Benchmark variant (opt-in): BAGS end-to-end on repeat-factor sampling, the
# one change of ../bags/bags_mask-rcnn_r50_fpn_sample1e-3-ms-1x_lvis-v1.py
# (the same ClassBalancedDataset as the softmax RFS baseline).
_base_ = './bags_mask-rcnn_r18_fpn_random-2k_longtail-small.py'

train_dataloader = {{_base_.bench_rfs_train_dataloader}}
