# BAGS on your own long-tail dataset in COCO format: MMDetection's COCO
# Mask R-CNN R50-FPN 1x with a BAGS classifier whose groups are counted from
# YOUR training annotation file, evaluated with the COCO metric plus AP per
# training-instance-count bin.
#
# As shipped it runs on the generated set made by
#   python tools/dataset_converters/generate_longtail_lvis.py --preset tiny \
#       --format coco --out data/my_longtail_coco
# For your data, edit the five settings below:
#   1. data_root and the two annotation files (COCO instance format);
#   2. classes: the category names of the annotation file (CocoDataset needs
#      them; labels follow the file's category order, and the BAGS groups
#      use the same rule);
#   3. bin_edges: check them with
#        python tools/analysis/group_stats.py <data_root><train_ann_file>
#      which reports empty or tiny groups and suggests edges for your counts
#      (the paper's LVIS edges (10, 100, 1000) suit this generated set).
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmdet_bags'], allow_failed_imports=False)

# ---------------------------------------------------------------- your data
data_root = 'data/my_longtail_coco/'
train_ann_file = 'annotations/instances_train2017.json'
val_ann_file = 'annotations/instances_val2017.json'
classes = ('blue_checkered_ellipse', 'blue_dotted_ring', 'blue_dotted_square',
           'blue_striped_circle', 'cyan_checkered_star', 'cyan_solid_diamond',
           'cyan_striped_crescent', 'cyan_striped_cross',
           'green_checkered_cross', 'green_dotted_triangle',
           'green_solid_cross', 'green_solid_square',
           'magenta_checkered_crescent', 'magenta_checkered_star',
           'magenta_solid_hexagon', 'magenta_striped_crescent',
           'orange_dotted_hexagon', 'orange_dotted_triangle',
           'orange_solid_triangle', 'orange_striped_square',
           'red_dotted_hexagon', 'red_dotted_triangle', 'red_solid_ellipse',
           'red_solid_ring', 'white_solid_ring', 'white_striped_circle',
           'white_striped_diamond', 'white_striped_star',
           'yellow_checkered_circle', 'yellow_checkered_diamond',
           'yellow_checkered_ellipse', 'yellow_dotted_circle')
bin_edges = (10, 100, 1000)
# ---------------------------------------------------------------------------

model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='BAGSBBoxHead',
            num_classes=len(classes),
            groups=dict(
                ann_file=data_root + train_ann_file,
                classes=classes,
                bin_edges=bin_edges),
            others_sample_ratio=8.0,
            loss_cls=dict(
                _delete_=True, type='GroupSoftmaxLoss', loss_weight=1.0)),
        mask_head=dict(num_classes=len(classes))),
    # Long-tail evaluation keeps low-scoring detections of rare classes.
    test_cfg=dict(rcnn=dict(score_thr=0.001)))

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=train_ann_file,
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=classes)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file=val_ann_file,
        data_prefix=dict(img='val2017/'),
        metainfo=dict(classes=classes)))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='PerBinCocoMetric',
    ann_file=data_root + val_ann_file,
    train_ann_file=data_root + train_ann_file,
    bin_edges=bin_edges)
test_evaluator = val_evaluator

# Refuse a dataset whose classes are not the groups'; resume repeats an
# uninterrupted run.
custom_hooks = [
    dict(type='CheckGroupClassesHook'),
    dict(type='RandomStateHook')
]
