# Opt-in variant (not the paper's recipe): BAGS end-to-end on top of
# repeat-factor sampling (MMDetection's ClassBalancedDataset with
# oversample_thr=1e-3, as in its LVIS baselines) instead of plain sampling;
# everything else is bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py.
_base_ = './bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClassBalancedDataset',
        oversample_thr=1e-3,
        dataset=dict(
            type='LVISV1Dataset',
            data_root='data/lvis_v1/',
            ann_file='annotations/lvis_v1_train.json',
            data_prefix=dict(img=''),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline={{_base_.train_pipeline}},
            backend_args={{_base_.backend_args}})))
