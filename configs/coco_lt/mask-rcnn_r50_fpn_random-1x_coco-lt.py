# Plain-softmax Mask R-CNN R50-FPN 1x on a COCO-LT-style long-tail subset of
# COCO train2017, evaluated on the full COCO val2017 with COCO's metric plus
# AP in COCO-LT's bins of training instances [1, 20), [20, 400),
# [400, 8000), [8000, inf). The baseline of the decoupled BAGS config.
# Build the training file first (see the README, "COCO-LT"):
#   python tools/dataset_converters/build_coco_lt.py \
#       data/coco/annotations/instances_train2017.json \
#       data/coco/annotations/instances_train2017_coco-lt.json --seed 0
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

data_root = 'data/coco/'
coco_lt_train_ann_file = 'annotations/instances_train2017_coco-lt.json'
coco_lt_bin_edges = (20, 400, 8000)
# The BAGS configs' groups: counted from the COCO-LT training file, with
# COCO-LT's bin edges, so that each group is one evaluation bin.
coco_lt_groups = dict(
    ann_file=data_root + coco_lt_train_ann_file, bin_edges=coco_lt_bin_edges)

train_dataloader = dict(dataset=dict(ann_file=coco_lt_train_ann_file))
val_evaluator = dict(
    type='PerBinCocoMetric',
    train_ann_file=data_root + coco_lt_train_ann_file,
    bin_edges=coco_lt_bin_edges)
test_evaluator = val_evaluator
# Every method on COCO-LT is tested alike: low-scoring detections of rare
# classes are kept, as the BAGS paper tests.
model = dict(test_cfg=dict(rcnn=dict(score_thr=0.001)))
