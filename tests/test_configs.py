"""Every config under configs/ parses, builds on CPU and has the classifier
its name promises. Configs are discovered automatically: a new config is
tested without anyone adding it here."""
import json
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

CONFIG_ROOT = Path(__file__).parents[1] / 'configs'
DEMO_DIR = CONFIG_ROOT / 'demo'
BENCHMARK_DIR = CONFIG_ROOT / 'benchmark'
CUSTOM_DIR = CONFIG_ROOT / 'custom'
COCO_LT_DIR = CONFIG_ROOT / 'coco_lt'
# Configs for the generated long-tail sets (demo, benchmark), the user's own
# COCO-format data (custom, tests/test_own_coco_dataset.py) and COCO-LT are
# tested on their own below; all others are LVIS configs.
NOT_LVIS = (DEMO_DIR, BENCHMARK_DIR, CUSTOM_DIR, COCO_LT_DIR)
CONFIGS = sorted(
    p for p in CONFIG_ROOT.rglob('*.py')
    if '_base_' not in p.parts and not any(d in p.parents for d in NOT_LVIS))
DEMO_CONFIGS = sorted(DEMO_DIR.glob('*.py'))
BENCHMARK_CONFIGS = sorted(BENCHMARK_DIR.glob('*.py'))
CUSTOM_CONFIGS = sorted(CUSTOM_DIR.glob('*.py'))
COCO_LT_CONFIGS = sorted(COCO_LT_DIR.glob('*.py'))
NAME = re.compile(r'^(?:(?P<algorithm>bags)_)?(?P<detector>[a-z-]+)_'
                  r'(?P<backbone>r50|r101|x101-32x4d|x101-64x4d)_fpn_'
                  r'(?P<schedule>[a-z0-9-]+)_(?P<dataset>lvis-v1|lvis-v0\.5)'
                  r'\.py$')
LVIS = {
    'lvis-v1': dict(classes=1203, groups=(200, 412, 334, 257), logits=1209),
    'lvis-v0.5': dict(classes=1230, groups=(294, 453, 302, 181),
                      logits=1236),
}

# Bins (5, 10, 50, 100, 500, 1000, 5000) of the paper's 8-bin ablation.
LVIS_8BINS = {
    'lvis-v1': dict(groups=(128, 72, 280, 132, 251, 83, 184, 73),
                    logits=1203 + 1 + 1 + 8),
}


def config_id(path):
    return str(path.relative_to(CONFIG_ROOT))


def test_configs_are_found():
    assert len(CONFIGS) >= 23


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_with_the_promised_classifier(path):
    from mmdet.registry import MODELS
    match = NAME.match(path.name)
    assert match, f'{path.name} does not follow the naming scheme'
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.init_cfg = None  # no pretrained download
    cfg.load_from = None
    lvis = LVIS[match['dataset']]
    if '8bins' in match['schedule']:  # the paper's 8-bin ablation
        lvis = dict(lvis, **LVIS_8BINS[match['dataset']])
    is_bags = match['algorithm'] == 'bags'
    if is_bags:
        assert cfg.custom_imports['imports'] == ['mmdet_bags']
        assert cfg.custom_imports['allow_failed_imports'] is False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    heads = model.roi_head.bbox_head
    heads = list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]
    if 'cascade' in match['detector'] or match['detector'].startswith('htc'):
        assert len(heads) == 3
        assert all(head.reg_class_agnostic for head in heads)
    for head in heads:
        assert head.num_classes == lvis['classes']
        # Opt-in variants: "normed" is MMDetection's cosine classifier.
        assert (type(head.fc_cls).__name__ == 'NormedLinear') == (
            'normed' in match['schedule'])
        if is_bags:
            assert type(head).__name__ == 'BAGSBBoxHead'
            assert head.fc_cls.out_features == lvis['logits']
            assert head.layout.group_sizes == lvis['groups']
            assert head.init_cls_from_baseline == (
                'initcls' in match['schedule'])
        else:
            assert head.fc_cls.out_features == lvis['classes'] + 1
    if 'mask' in match['detector'] or match['detector'].startswith('htc'):
        mask_heads = model.roi_head.mask_head
        if not isinstance(mask_heads, torch.nn.ModuleList):
            mask_heads = [mask_heads]
        assert all(m.num_classes == lvis['classes'] for m in mask_heads)
    dataset = cfg.train_dataloader.dataset
    if 'sample1e-3' in match['schedule']:  # repeat-factor sampling
        assert dataset.type == 'ClassBalancedDataset'
        assert dataset.oversample_thr == 1e-3
        dataset = dataset.dataset
    assert dataset.type in ('LVISV1Dataset', 'LVISV05Dataset')  # plain
    if match['schedule'].startswith('decoupled'):
        hooks = [hook['type'] for hook in cfg.get('custom_hooks', [])]
        assert 'TrainClassifierOnlyHook' in hooks
        # The recipe itself: tests/test_paper_recipe.py.
        if match['schedule'].endswith('-fixed-ap'):
            # Fixed AP inference: every class may reach its K detections.
            assert cfg.model.test_cfg.rcnn.max_per_img >= 2000
            assert cfg.model.test_cfg.rcnn.score_thr <= 1e-4
            for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
                assert evaluator.type == 'PerBinLVISMetric'
                assert evaluator.ap_fixed is True
                assert evaluator.ap_fixed_max_dets_per_class == 10000
        assert cfg.model_wrapper_cfg.find_unused_parameters
        loaded = Config.fromfile(str(path)).load_from
        if path.parent.name == 'paper':
            # the paper's own first stage (tests/test_paper_recipe.py)
            assert loaded.startswith('work_dirs/')
        elif 'mask-rcnn' in match['detector'] and 'cascade' not in \
                match['detector']:
            assert loaded.startswith(
                'https://download.openmmlab.com/mmdetection/v2.0/lvis/')
            assert match['backbone'].replace('-', '_') in loaded
            assert ('lvis_v1' in loaded) == (match['dataset'] == 'lvis-v1')
        else:
            assert loaded is None  # documented: pass your own baseline


def test_metafile_and_model_index_list_every_config():
    import yaml
    root = CONFIG_ROOT.parent
    index = yaml.safe_load((root / 'model-index.yml').read_text())
    assert index['Import'] == ['configs/bags/metafile.yml']
    metafile = yaml.safe_load((root / index['Import'][0]).read_text())
    listed = {model['Config'] for model in metafile['Models']}
    assert listed == {str(p.relative_to(root))
                      for p in CONFIGS + COCO_LT_CONFIGS}
    for model in metafile['Models']:
        assert model['Name'] == Path(model['Config']).stem
        assert model['In Collection'] == 'BAGS'
        assert 'Results' not in model  # nothing measured on LVIS yet


def planned_longtail(preset, data_root, seed=0):
    """What the generator reports for a preset, from its plan alone: the
    configs only need the classes, counts and bins, not rendered images
    (the counts of a rendered set equal the plan's, see
    tests/datasets/test_synthetic_longtail.py)."""
    from mmdet_bags.datasets import plan_long_tail_dataset, resolve_settings
    from mmdet_bags.grouping.bins import bin_sizes
    plan = plan_long_tail_dataset(resolve_settings(preset), seed)
    counts = [int(c) for c in plan.train_instance_counts]
    # A BAGS config may read its groups from the training file: the
    # categories and one stub annotation per planned instance.
    annotations = Path(data_root) / 'annotations'
    annotations.mkdir(parents=True, exist_ok=True)
    categories = [dict(id=i + 1, name=name)
                  for i, name in enumerate(plan.class_names)]
    labels = [i for i, count in enumerate(counts) for _ in range(count)]
    stubs = [dict(id=n + 1, category_id=label + 1)
             for n, label in enumerate(labels)]
    (annotations / 'lvis_v1_train.json').write_text(json.dumps(
        dict(images=[], annotations=stubs, categories=categories)))
    return dict(data_root=str(data_root), bin_edges=plan.bin_edges,
                scale_factor=plan.scale_factor, class_names=plan.class_names,
                instance_counts=counts,
                group_sizes=bin_sizes(counts, plan.bin_edges))


@pytest.fixture(scope='module')
def tiny_longtail(tmp_path_factory):
    return planned_longtail('tiny', tmp_path_factory.mktemp('tiny'))


@pytest.mark.parametrize('path', DEMO_CONFIGS, ids=config_id)
def test_demo_config_builds_on_the_generated_data(path, tiny_longtail):
    """Demo configs inherit the real ones and change data, backbone size and
    schedule; their hard-coded data facts match what the generator makes."""
    from mmdet.registry import MODELS

    from mmdet_bags.analysis.experiments import point_to_data
    cfg = Config.fromfile(str(path))
    assert tuple(cfg.demo_bin_edges) == tuple(tiny_longtail['bin_edges'])
    assert cfg.demo_num_classes == len(tiny_longtail['class_names'])
    point_to_data(cfg, tiny_longtail["data_root"])
    model = MODELS.build(cfg.model)
    head = model.roi_head.bbox_head
    assert model.backbone.depth == 18
    assert head.num_classes == 32
    if path.name.startswith('bags_'):
        assert head.layout.group_sizes == tuple(tiny_longtail['group_sizes'])
        assert head.fc_cls.out_features == 32 + 1 + 5
        base = Config.fromfile(str(CONFIG_ROOT / 'bags' / (
            'bags_mask-rcnn_r50_fpn_decoupled-12e_lvis-v1.py'
            if 'decoupled' in path.name else
            'bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py')))
        # Inherited, not restated: the recipe of the real config.
        assert cfg.optim_wrapper.optimizer.lr == \
            base.optim_wrapper.optimizer.lr
        assert cfg.model.test_cfg.rcnn.score_thr == \
            base.model.test_cfg.rcnn.score_thr
        assert cfg.get('custom_hooks') == base.get('custom_hooks')
    else:
        assert head.fc_cls.out_features == 32 + 1


def test_every_config_is_tested():
    everything = {p for p in CONFIG_ROOT.rglob('*.py')
                  if '_base_' not in p.parts}
    assert everything == set(CONFIGS) | set(DEMO_CONFIGS) | \
        set(BENCHMARK_CONFIGS) | set(CUSTOM_CONFIGS) | set(COCO_LT_CONFIGS)
    # The one custom config is trained in tests/test_own_coco_dataset.py.
    assert [p.name for p in CUSTOM_CONFIGS] == [
        'bags_mask-rcnn_r50_fpn_1x_my-longtail-coco.py']


@pytest.fixture(scope='module')
def small_longtail(tmp_path_factory):
    return planned_longtail('small', tmp_path_factory.mktemp('small'))


@pytest.mark.parametrize('path', BENCHMARK_CONFIGS, ids=config_id)
def test_benchmark_config_builds_on_the_generated_data(path, small_longtail):
    """Every method of the benchmark: same backbone and schedule, its own
    classifier; data facts match what the generator makes."""
    from mmdet.registry import MODELS

    from mmdet_bags.analysis.experiments import point_to_data
    cfg = Config.fromfile(str(path))
    assert tuple(cfg.bench_bin_edges) == tuple(small_longtail['bin_edges'])
    assert cfg.bench_num_classes == len(small_longtail['class_names'])
    point_to_data(cfg, small_longtail['data_root'])
    model = MODELS.build(cfg.model)
    head = model.roi_head.bbox_head
    assert model.backbone.depth == 18 and head.num_classes == 120
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    loss_type = type(head.loss_cls).__name__
    if path.name.startswith('bags_') and '8bins' in path.name:
        from mmdet_bags.datasets import scaled_bin_edges
        assert loss_type == 'GroupSoftmaxLoss'
        assert tuple(cfg.bench_8bin_edges) == scaled_bin_edges(
            small_longtail['scale_factor'], cfg.bench_paper_8bin_edges)
        # The first of the 8 bins is empty on this set and dropped.
        assert head.layout.group_sizes == (13, 34, 14, 25, 8, 19, 7)
    elif path.name.startswith('bags_'):
        assert loss_type == 'GroupSoftmaxLoss'
        assert head.layout.group_sizes == tuple(small_longtail['group_sizes'])
    elif path.name.startswith('seesaw_'):
        assert loss_type == 'SeesawLoss'
        assert type(head.fc_cls).__name__ == 'NormedLinear'
    else:
        assert loss_type == 'CrossEntropyLoss'
    # Opt-in variants: "normed" is MMDetection's cosine classifier (Seesaw
    # has it too), "sample1e-3" repeat-factor sampling.
    assert (type(head.fc_cls).__name__ == 'NormedLinear') == (
        'normed' in path.name or path.name.startswith('seesaw_'))
    assert (cfg.train_dataloader.dataset.type == 'ClassBalancedDataset') == \
        ('sample1e-3' in path.name)
    if 'decoupled' not in path.name:
        assert cfg.train_cfg.max_iters == 2000  # the same budget for all


def _coco_lt_counts():
    """80 counts from 1 to 50000, evenly in log space: every COCO-LT bin
    holds some classes."""
    return [int(round(50000 ** (index / 79))) for index in range(80)]


@pytest.mark.parametrize('path', COCO_LT_CONFIGS, ids=config_id)
def test_coco_lt_config_builds(path):
    """COCO-LT configs inherit MMDetection's COCO configs, train on the
    COCO-LT file, evaluate per COCO-LT bin; the BAGS ones take their groups
    from the COCO-LT file (replaced by counts here: no COCO on CI)."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/instances_train2017_coco-lt.json'
    assert cfg.val_dataloader.dataset.ann_file == \
        'annotations/instances_val2017.json'
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'PerBinCocoMetric'
        assert tuple(evaluator.bin_edges) == (20, 400, 8000)
        assert evaluator.train_ann_file == \
            'data/coco/annotations/instances_train2017_coco-lt.json'
    heads = cfg.model.roi_head.bbox_head
    heads = heads if isinstance(heads, list) else [heads]
    is_bags = path.name.startswith('bags_')
    for head in heads:
        if is_bags:
            assert head.groups == dict(
                ann_file=cfg.val_evaluator.train_ann_file,
                bin_edges=(20, 400, 8000))
            head.groups = dict(instance_counts=_coco_lt_counts(),
                               bin_edges=(20, 400, 8000))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    built = model.roi_head.bbox_head
    built = list(built) if isinstance(built, torch.nn.ModuleList) else [built]
    assert len(built) == (3 if 'cascade' in path.name else 1)
    for head in built:
        assert head.num_classes == 80
        if is_bags:
            assert type(head).__name__ == 'BAGSBBoxHead'
            # 22 counts below 20, 22 in [20, 400), 22 in [400, 8000), 14 above.
            assert head.layout.group_sizes == (22, 22, 22, 14)
            assert head.fc_cls.out_features == 80 + 2 + 4
        else:
            assert head.fc_cls.out_features == 81
    if 'decoupled' in path.name:
        hooks = [hook['type'] for hook in cfg.custom_hooks]
        assert 'TrainClassifierOnlyHook' in hooks
        baseline = path.name.replace('bags_', '').replace(
            'decoupled-12e', 'random-1x')
        assert (COCO_LT_DIR / baseline).is_file()
        assert cfg.load_from == \
            f'work_dirs/{Path(baseline).stem}/epoch_12.pth'


def test_long_decoupled_config_is_the_recipe_with_a_3x_schedule():
    """The LVIS counterpart of the benchmark's bags_decoupled_long: only
    the schedule changes, 3x as long with steps at the same fractions."""
    name = 'bags/bags_mask-rcnn_r50_fpn_decoupled-{}_lvis-v1.py'
    base = Config.fromfile(str(CONFIG_ROOT / name.format('12e')))
    long = Config.fromfile(str(CONFIG_ROOT / name.format('36e')))
    assert long.train_cfg.max_epochs == 3 * base.train_cfg.max_epochs == 36
    warmup, steps = long.param_scheduler
    assert warmup == base.param_scheduler[0]
    base_steps = base.param_scheduler[1]
    assert steps.end == 3 * base_steps.end and steps.by_epoch
    assert [m / steps.end for m in steps.milestones] == [
        m / base_steps.end for m in base_steps.milestones]
    for key in ('model', 'optim_wrapper', 'load_from', 'custom_hooks',
                'train_dataloader', 'model_wrapper_cfg'):
        assert long[key] == base[key], key


@pytest.mark.parametrize('name, long_name, normed_name', [
    ('bags/bags_mask-rcnn_r50_fpn_decoupled-36e-normed_lvis-v1.py',
     'bags/bags_mask-rcnn_r50_fpn_decoupled-36e_lvis-v1.py',
     'bags/bags_mask-rcnn_r50_fpn_decoupled-12e-normed_lvis-v1.py'),
    ('benchmark/bags_mask-rcnn_r18_fpn_decoupled-3600i-normed_'
     'longtail-small.py',
     'benchmark/bags_mask-rcnn_r18_fpn_decoupled-3600i_longtail-small.py',
     'benchmark/bags_mask-rcnn_r18_fpn_decoupled-1200i-normed_'
     'longtail-small.py'),
])
def test_long_normed_config_is_both_variants_together(name, long_name,
                                                      normed_name):
    """The 3x schedule with the cosine classifier: the model of the cosine
    variant, everything else of the long one."""
    combined, long, normed = (Config.fromfile(str(CONFIG_ROOT / n))
                              for n in (name, long_name, normed_name))
    assert combined.model == normed.model
    assert combined.model != long.model
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper', 'load_from',
                'custom_hooks', 'train_dataloader'):
        assert combined[key] == long[key], key
