# Benchmark: softmax cross-entropy with repeat-factor sampling
# (MMDetection's ClassBalancedDataset, oversample_thr 1e-3, as in its LVIS
# configs).
_base_ = './softmax_mask-rcnn_r18_fpn_random-2k_longtail-small.py'

train_dataloader = {{_base_.bench_rfs_train_dataloader}}
