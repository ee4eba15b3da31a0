# Plain-softmax Cascade Mask R-CNN R50-FPN 1x on COCO-LT (data, evaluation and
# test settings as mask-rcnn_r50_fpn_random-1x_coco-lt.py): the baseline of
# the decoupled BAGS cascade.
_base_ = 'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py'
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
model = dict(test_cfg=dict(rcnn=dict(score_thr=0.001)))
