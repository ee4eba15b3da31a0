"""BAGSBBoxHead with a cosine classifier (MMDetection's NormedLinear, as in
its Seesaw LVIS configs): built at the BAGS width, initialised like a fresh
classifier, kept as a NormedLinear through the decoupled recipe's loading,
the baseline initialisation and checkpoint-only inference."""
import pytest
import torch
from mmdet.models.layers import NormedLinear
from mmengine.runner.checkpoint import load_state_dict

from test_bags_bbox_head import make_head, ordinary_checkpoint

NORMED = dict(type='NormedLinear', tempearture=20)


def make_normed_head(**kwargs):
    return make_head(cls_predictor_cfg=dict(NORMED), **kwargs)


def test_normed_classifier_has_the_bags_width_and_a_fresh_init():
    torch.manual_seed(0)
    head = make_normed_head()
    assert type(head.fc_cls) is NormedLinear
    assert head.fc_cls.tempearture == 20
    assert (head.fc_cls.in_features, head.fc_cls.out_features) == (16, 12)
    assert head.fc_cls.weight.std().item() == pytest.approx(0.01, rel=0.3)
    assert torch.count_nonzero(head.fc_cls.bias) == 0


def test_normed_scores_do_not_depend_on_the_feature_scale():
    torch.manual_seed(0)
    head = make_normed_head()
    head.eval()
    features = torch.randn(3, 8, 2, 2)
    with torch.no_grad():
        shared = head.shared_fcs[1](torch.relu(
            head.shared_fcs[0](features.flatten(1)))).relu()
        scores = head.fc_cls(shared)
        scaled = head.fc_cls(5 * shared)
    assert torch.allclose(scores, scaled, atol=1e-5)
    # Cosine logits times the temperature (bias 0): |logit| <= 20.
    assert scores.abs().max().item() <= 20 + 1e-4


def test_decoupled_loading_keeps_a_fresh_normed_classifier(tmp_path):
    baseline, path = ordinary_checkpoint(tmp_path)
    head = make_normed_head()
    fresh_weight = head.fc_cls.weight.detach().clone()
    load_state_dict(head, torch.load(str(path))['state_dict'], strict=True)
    assert type(head.fc_cls) is NormedLinear
    assert torch.equal(head.fc_cls.weight, fresh_weight)
    assert torch.count_nonzero(head.fc_cls.bias) == 0
    assert torch.equal(head.shared_fcs[0].weight,
                       baseline.shared_fcs[0].weight)


def test_init_cls_from_baseline_fills_the_normed_rows(tmp_path):
    baseline, path = ordinary_checkpoint(tmp_path)
    head = make_normed_head(init_cls_from_baseline=True)
    fresh_weight = head.fc_cls.weight.detach().clone()
    load_state_dict(head, torch.load(str(path))['state_dict'], strict=True)
    columns = head.layout.column_of_label
    assert torch.equal(head.fc_cls.weight[columns], baseline.fc_cls.weight)
    extra = head.layout.extra_columns
    assert torch.equal(head.fc_cls.weight[extra], fresh_weight[extra])


def test_checkpoint_only_inference_resizes_to_a_normed_classifier():
    torch.manual_seed(2)
    trained = make_normed_head()
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.normal_()
    head = make_normed_head(groups=None)
    assert head.fc_cls.out_features == 8  # placeholder until loaded
    load_state_dict(head, trained.state_dict(), strict=True)
    assert type(head.fc_cls) is NormedLinear
    assert head.fc_cls.tempearture == 20
    assert head.fc_cls.out_features == 12
    trained.eval()
    head.eval()
    features = torch.randn(4, 8, 2, 2)
    with torch.no_grad():
        assert torch.equal(head(features)[0], trained(features)[0])
