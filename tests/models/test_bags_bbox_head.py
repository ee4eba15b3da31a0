"""BAGSBBoxHead: config forms, refusals, checkpoint loading (decoupled recipe
and checkpoint-only inference)."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.runner.checkpoint import load_checkpoint, load_state_dict

from mmdet_bags.grouping import GroupLayout

HAND_COUNTS = [5, 50, 500, 5000, 0, 20]
HEAD_BASE = dict(
    in_channels=8,
    fc_out_channels=16,
    roi_feat_size=2,
    num_classes=6,
    bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
    reg_class_agnostic=False,
    loss_bbox=dict(type='L1Loss', loss_weight=1.0))


def make_head(**kwargs):
    cfg = dict(type='BAGSBBoxHead',
               groups=dict(instance_counts=HAND_COUNTS), **HEAD_BASE)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def make_ordinary_head():
    head = MODELS.build(dict(type='Shared2FCBBoxHead', **HEAD_BASE))
    head.init_weights()
    return head


# --------------------------------------------------------------- building
def test_builds_with_the_base_head_settings():
    head = make_head()
    assert head.fc_cls.out_features == 12
    assert head.shared_fcs[0].in_features == 8 * 2 * 2
    assert head.shared_fcs[1].out_features == 16
    assert head.fc_reg.out_features == 4 * 6
    assert head.layout == GroupLayout.from_counts(HAND_COUNTS)
    assert head.loss_cls.others_sample_ratio == 8.0


def test_inherited_softmax_cross_entropy_is_replaced_keeping_its_weight():
    head = make_head(loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                   loss_weight=2.0))
    assert type(head.loss_cls).__name__ == 'GroupSoftmaxLoss'
    assert head.loss_cls.loss_weight == 2.0


def test_group_softmax_loss_config_is_completed_by_the_head():
    head = make_head(groups=None, others_sample_ratio=None,
                     loss_cls=dict(type='GroupSoftmaxLoss',
                                   groups=dict(instance_counts=HAND_COUNTS),
                                   loss_weight=0.5))
    assert head.layout.group_sizes == (2, 2, 1, 1)
    assert head.loss_cls.others_sample_ratio is None
    assert head.loss_cls.loss_weight == 0.5


@pytest.mark.parametrize('kwargs, match', [
    (dict(loss_cls=dict(type='SeesawLoss', num_classes=6)),
     'needs a GroupSoftmaxLoss classifier, but loss_cls is SeesawLoss'),
    (dict(loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True)),
     'use_sigmoid=True'),
    (dict(loss_cls=dict(type='GroupSoftmaxLoss', groups='lvis_v1')),
     "groups=.*but its loss_cls has groups='lvis_v1'"),
    (dict(loss_cls=dict(type='GroupSoftmaxLoss', num_classes=7)),
     'num_classes=6 but its loss_cls has num_classes=7'),
    (dict(groups='lvis_v1'), 'num_classes=6 .* 1203 classes'),
])
def test_inconsistent_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_head(**kwargs)


# --------------------------------------------- the decoupled recipe: loading
def ordinary_checkpoint(tmp_path):
    torch.manual_seed(1)
    baseline = make_ordinary_head()
    with torch.no_grad():
        baseline.fc_cls.weight.normal_()
        baseline.fc_cls.bias.normal_()
    path = tmp_path / 'baseline.pth'
    torch.save(dict(state_dict=baseline.state_dict()), str(path))
    return baseline, path


def test_ordinary_checkpoint_loads_everything_but_the_classifier(
        tmp_path, monkeypatch):
    baseline, path = ordinary_checkpoint(tmp_path)
    head = make_head()
    fresh_weight = head.fc_cls.weight.detach().clone()
    assert fresh_weight.std().item() == pytest.approx(0.01, rel=0.3)
    assert torch.count_nonzero(head.fc_cls.bias) == 0
    messages = []
    monkeypatch.setattr(
        'mmdet_bags.models.roi_heads.bbox_heads.bags_bbox_head.print_log',
        lambda message, **kwargs: messages.append(message))
    # strict=True: no missing, unexpected or mis-shaped key remains, so
    # MMEngine has no warning to print.
    load_state_dict(head, torch.load(str(path))['state_dict'], strict=True)
    assert torch.equal(head.fc_cls.weight, fresh_weight)
    assert torch.equal(head.shared_fcs[0].weight,
                       baseline.shared_fcs[0].weight)
    assert torch.equal(head.fc_reg.weight, baseline.fc_reg.weight)
    assert len(messages) == 1
    assert 'fc_cls' in messages[0] and '7 = 6 classes + background' in \
        messages[0] and 'needs 12 outputs' in messages[0] and \
        'normal std 0.01' in messages[0]


def test_load_checkpoint_from_a_file_works_too(tmp_path):
    baseline, path = ordinary_checkpoint(tmp_path)
    head = make_head()
    load_checkpoint(head, str(path), strict=True)
    assert torch.equal(head.fc_reg.bias, baseline.fc_reg.bias)


def test_init_cls_from_baseline_copies_class_and_background_rows(tmp_path):
    baseline, path = ordinary_checkpoint(tmp_path)
    head = make_head(init_cls_from_baseline=True)
    fresh_weight = head.fc_cls.weight.detach().clone()
    load_checkpoint(head, str(path), strict=True)
    layout = head.layout
    columns = layout.column_of_label
    assert torch.equal(head.fc_cls.weight[columns], baseline.fc_cls.weight)
    assert torch.equal(head.fc_cls.bias[columns], baseline.fc_cls.bias)
    extra = layout.extra_columns
    assert torch.equal(head.fc_cls.weight[extra], fresh_weight[extra])
    assert torch.count_nonzero(head.fc_cls.bias[extra]) == 0


# ------------------------------------------ BAGS checkpoints and inference
def trained_bags_state():
    torch.manual_seed(2)
    head = make_head()
    with torch.no_grad():
        for parameter in head.parameters():
            parameter.normal_()
    return head, head.state_dict()


def test_checkpoint_alone_gives_the_groups_for_inference():
    trained, state = trained_bags_state()
    head = make_head(groups=None)
    assert head.layout is None
    assert head.fc_cls.out_features == 8  # placeholder until loaded
    load_state_dict(head, state, strict=True)
    assert head.layout == trained.layout
    assert head.fc_cls.out_features == 12
    features = torch.randn(5, 8, 2, 2)
    trained.eval()
    head.eval()
    with torch.no_grad():
        expected_scores, expected_boxes = trained(features)
        scores, boxes = head(features)
    assert torch.equal(scores, expected_scores)
    assert torch.equal(boxes, expected_boxes)
    assert torch.equal(head.loss_cls.get_activation(scores),
                       trained.loss_cls.get_activation(expected_scores))


def test_built_in_name_at_test_time_is_checked_against_the_checkpoint():
    _, state = trained_bags_state()
    head = make_head(groups=dict(instance_counts=[50, 5, 500, 5000, 0, 20]))
    with pytest.raises(RuntimeError, match='different BAGS groups'):
        load_state_dict(head, state)


def test_training_without_groups_is_a_clear_error():
    head = make_head(groups=None)
    with pytest.raises(RuntimeError, match='has no groups'):
        head.loss_cls(torch.zeros(2, 8), torch.tensor([0, 6]))
