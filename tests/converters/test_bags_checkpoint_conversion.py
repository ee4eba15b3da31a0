"""Converted BAGS checkpoints give the source code's own scores.

Each test writes a checkpoint in a source's layout (its real key names and
its classifier width for LVIS v0.5 / v1; small random tensors elsewhere),
converts it, loads it into ``BAGSBBoxHead(groups=None)`` and compares our
test-time scores on fixed RoI features with the source's score formula,
written here from the source's code and computed on the source's weights:

* the original (FishYuLi/BalancedGroupSoftmax): ``tools/lvis_analyse.py``
  builds ``label2binlabel`` / ``pred_slice`` / the bin splits by iterating
  the LVIS v0.5 train categories, ``GSBBoxHeadWith0._merge_score`` merges;
* eqlv2 (``mmdet/models/losses/group_softmax.py``): ``_assign_group`` and
  ``get_activation``.
"""
import bisect
import hashlib
import json
import os
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

import mmdet_bags
from mmdet_bags.converters import (CheckpointConversionError,
                                   convert_bags_checkpoint,
                                   convert_checkpoint_file)

DATA_DIR = osp.join(osp.dirname(mmdet_bags.__file__), 'data')
IN_CHANNELS, ROI_SIZE, FC_CHANNELS, NUM_ROIS = 4, 7, 16, 6


def lvis_categories(version):
    with open(osp.join(DATA_DIR, f'lvis_{version}_train_categories.json')) \
            as file:
        return json.load(file)


# ------------------------------------------ the sources' formulas, rewritten
def original_tables(categories, edges=(10, 100, 1000)):
    """label2binlabel, pred_slice and bin splits as lvis_analyse.py builds
    them: iterate the categories in file order, index by category id
    (= mmdet v1 label), positions counted from 1 in each bin."""
    num_bins = len(edges) + 2
    label2binlabel = torch.zeros(num_bins, len(categories) + 1,
                                 dtype=torch.long)
    label2binlabel[0, 1:] = 1
    next_position = [2] + [1] * (num_bins - 1)
    splits = [[] for _ in range(num_bins - 1)]
    for category in categories:
        count = category['instance_count']
        group = next(
            (k for k, edge in enumerate(edges, start=1) if count < edge),
            num_bins - 1)
        label2binlabel[group, category['id']] = next_position[group]
        next_position[group] += 1
        splits[group - 1].append(category['id'])
    pred_slice = torch.zeros(num_bins, 2, dtype=torch.long)
    start = 0
    for group, length in enumerate(next_position):
        pred_slice[group] = torch.tensor([start, length])
        start += length
    return label2binlabel, pred_slice, [
        torch.tensor(split, dtype=torch.long) for split in splits]


def original_scores(cls_score, pred_slice, splits):
    """GSBBoxHeadWith0._merge_score: (N, 1231), column 0 = background."""
    probabilities = [
        F.softmax(cls_score.narrow(1, int(start), int(length)), dim=1)
        for start, length in pred_slice
    ]
    group0, groups = probabilities[0], probabilities[1:]
    num_v1_classes = 1 + sum(len(split) for split in splits)
    merged_foreground = cls_score.new_zeros(cls_score.size(0), num_v1_classes)
    for split, group_probabilities in zip(splits, groups):
        merged_foreground[:, split] = group_probabilities[:, 1:]
    merged_foreground = group0.narrow(1, 1, 1) * merged_foreground
    merged = cls_score.new_zeros(cls_score.size(0), num_v1_classes)
    merged[:, 0] = group0[:, 0]
    merged[:, 1:] = merged_foreground[:, 1:]
    return merged


def eqlv2_scores(cls_score, instance_counts, edges=(10, 100, 1000)):
    """eqlv2 GroupSoftmax.get_activation: (N, C + 1), background last."""
    num_groups = len(edges) + 2
    group_ids = [bisect.bisect_right(edges, n) for n in instance_counts]
    group_ids.append(num_groups - 1)  # the background label
    members = [[] for _ in range(num_groups)]
    for label, group in enumerate(group_ids):
        members[group].append(label)
    probabilities, start = [], 0
    for group_members in members:
        width = len(group_members) + 1
        probabilities.append(F.softmax(cls_score.narrow(1, start, width), 1))
        start += width
    assert start == cls_score.size(1)
    scores = cls_score.new_zeros(cls_score.size(0), len(group_ids))
    for group_members, group_probabilities in zip(members[:-1],
                                                  probabilities[:-1]):
        scores[:, group_members] = group_probabilities[:, 1:]
    scores *= probabilities[-1][:, [0]]
    scores[:, -1] = probabilities[-1][:, 1]
    return scores


def shared2fc_forward(state, prefix, features):
    """Shared2FC box head (v1 SharedFCBBoxHead(num_fcs=2) and 2.x/3.x
    Shared2FCBBoxHead compute the same): logits and box deltas."""
    x = features.flatten(1)
    for index in range(2):
        x = F.relu(F.linear(x, state[f'{prefix}shared_fcs.{index}.weight'],
                            state[f'{prefix}shared_fcs.{index}.bias']))
    return (F.linear(x, state[prefix + 'fc_cls.weight'],
                     state[prefix + 'fc_cls.bias']),
            F.linear(x, state[prefix + 'fc_reg.weight'],
                     state[prefix + 'fc_reg.bias']))


# ------------------------------------------------------ source checkpoints
def box_head_weights(prefix, cls_rows, reg_rows, generator):
    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    flat = IN_CHANNELS * ROI_SIZE * ROI_SIZE
    return {
        prefix + 'shared_fcs.0.weight': normal(FC_CHANNELS, flat) * 0.2,
        prefix + 'shared_fcs.0.bias': normal(FC_CHANNELS) * 0.1,
        prefix + 'shared_fcs.1.weight': normal(FC_CHANNELS, FC_CHANNELS) / 2,
        prefix + 'shared_fcs.1.bias': normal(FC_CHANNELS) * 0.1,
        # std 1: every class gets a clearly different score
        prefix + 'fc_cls.weight': normal(cls_rows, FC_CHANNELS),
        prefix + 'fc_cls.bias': normal(cls_rows),
        prefix + 'fc_reg.weight': normal(reg_rows, FC_CHANNELS),
        prefix + 'fc_reg.bias': normal(reg_rows),
    }


def mask_head_weights(prefix, num_logits, generator, conv_res=False):
    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    channels = IN_CHANNELS
    weights = {
        prefix + 'convs.0.conv.weight': normal(channels, channels, 3, 3) / 4,
        prefix + 'convs.0.conv.bias': normal(channels) * 0.1,
        prefix + 'upsample.weight': normal(channels, channels, 2, 2) / 2,
        prefix + 'upsample.bias': normal(channels) * 0.1,
        prefix + 'conv_logits.weight': normal(num_logits, channels, 1, 1),
        prefix + 'conv_logits.bias': normal(num_logits),
    }
    if conv_res:
        weights[prefix + 'conv_res.conv.weight'] = normal(
            channels, channels, 1, 1)
        weights[prefix + 'conv_res.conv.bias'] = normal(channels)
    return weights


def original_checkpoint(stages=None, mask=False, generator=None):
    """An original-code (mmdet v1) BAGS checkpoint for LVIS v0.5: fc_cls
    1236 rows (1231 classes incl. background + 5 groups), class-specific
    fc_reg 4 x 1231 (or agnostic 4 for cascade stages), mask conv_logits
    1231 channels."""
    generator = generator or torch.Generator().manual_seed(0)
    state = {
        'backbone.conv1.weight': torch.randn(2, 3, 3, 3, generator=generator),
        'neck.lateral_convs.0.conv.weight': torch.randn(
            2, 2, 1, 1, generator=generator),
        'rpn_head.rpn_conv.weight': torch.randn(2, 2, 3, 3,
                                                generator=generator),
        'rpn_head.rpn_cls.weight': torch.randn(3, 2, 1, 1,
                                               generator=generator),
        'rpn_head.rpn_reg.weight': torch.randn(12, 2, 1, 1,
                                               generator=generator),
    }
    if stages is None:
        state.update(box_head_weights('bbox_head.', 1236, 4 * 1231,
                                      generator))
    else:
        for stage in range(stages):
            state.update(box_head_weights(f'bbox_head.{stage}.', 1236, 4,
                                          generator))
    if mask:
        state.update(mask_head_weights('mask_head.', 1231, generator))
    meta = dict(mmdet_version='1.0rc0+unknown', config='# GSBBoxHeadWith0',
                CLASSES=tuple(c['name'] for c in lvis_categories('v0.5')))
    return dict(meta=meta, state_dict=state)


def eqlv2_checkpoint(generator=None):
    """An eqlv2 (mmdet 2.3) BAGS Mask R-CNN checkpoint for LVIS v1: fc_cls
    1209 rows (1203 + background + 5 groups), fc_reg 4 x 1203, conv_logits
    1203."""
    generator = generator or torch.Generator().manual_seed(1)
    state = {'backbone.conv1.weight': torch.randn(2, 3, 3, 3,
                                                  generator=generator)}
    state.update(box_head_weights('roi_head.bbox_head.', 1209, 4 * 1203,
                                  generator))
    state.update(mask_head_weights('roi_head.mask_head.', 1203, generator))
    return dict(meta=dict(mmdet_version='2.3.0'), state_dict=state)


def our_box_head(num_classes, reg_class_agnostic=False):
    head = MODELS.build(dict(
        type='BAGSBBoxHead', groups=None, num_classes=num_classes,
        in_channels=IN_CHANNELS, roi_feat_size=ROI_SIZE,
        fc_out_channels=FC_CHANNELS, reg_class_agnostic=reg_class_agnostic))
    return head.double().eval()


def sub_state(state, prefix):
    return {key[len(prefix):]: value for key, value in state.items()
            if key.startswith(prefix)}


def roi_features(seed=2):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(NUM_ROIS, IN_CHANNELS, ROI_SIZE, ROI_SIZE,
                       generator=generator, dtype=torch.float64)


def our_scores(head, state, prefix, features):
    head.load_state_dict(sub_state(state, prefix), strict=True)
    with torch.no_grad():
        cls_score, bbox_pred = head(features)
        return head.loss_cls.get_activation(cls_score), bbox_pred


def assert_class_by_class(ours, theirs_in_our_labels):
    """Every class's score (and background's) equal, naming the first that
    is not."""
    assert ours.shape == theirs_in_our_labels.shape
    difference = (ours - theirs_in_our_labels).abs().amax(dim=0)
    wrong = torch.nonzero(difference > 1e-12).flatten()
    assert len(wrong) == 0, (
        f'{len(wrong)} of {ours.size(1)} columns differ, first: label '
        f'{wrong[0].item()} by {difference[wrong[0]].item():.3g}')


# ------------------------------------------------------------ the original
def test_original_faster_rcnn_scores_equal_the_originals_merge_score():
    source = original_checkpoint()
    converted = convert_bags_checkpoint(source, 'original').checkpoint
    state = converted['state_dict']
    features = roi_features()

    head = our_box_head(1230)
    scores, bbox_pred = our_scores(head, state, 'roi_head.bbox_head.',
                                   features)
    assert head.layout.group_sizes == (294, 453, 302, 181)

    _, pred_slice, splits = original_tables(lvis_categories('v0.5'))
    v1_logits, v1_deltas = shared2fc_forward(source['state_dict'],
                                             'bbox_head.', features)
    v1_scores = original_scores(v1_logits, pred_slice, splits)
    # mmdet v1 label l is our label l - 1; its background column 0 is last
    assert_class_by_class(
        scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))
    # class-specific regression: v1 slot l (0 = background) -> our l - 1
    assert bbox_pred.shape == (NUM_ROIS, 4 * 1230)
    torch.testing.assert_close(bbox_pred, v1_deltas[:, 4:], rtol=0,
                               atol=1e-12)


def test_unconverted_rows_would_not_give_the_originals_scores():
    """The comparison above can fail: copying fc_cls as is (same width)
    gives other scores."""
    source = original_checkpoint()
    state = convert_bags_checkpoint(source, 'original').checkpoint[
        'state_dict']
    state['roi_head.bbox_head.fc_cls.weight'] = source['state_dict'][
        'bbox_head.fc_cls.weight']
    state['roi_head.bbox_head.fc_cls.bias'] = source['state_dict'][
        'bbox_head.fc_cls.bias']
    features = roi_features()
    scores, _ = our_scores(our_box_head(1230), state, 'roi_head.bbox_head.',
                           features)
    _, pred_slice, splits = original_tables(lvis_categories('v0.5'))
    v1_scores = original_scores(
        shared2fc_forward(source['state_dict'], 'bbox_head.', features)[0],
        pred_slice, splits)
    with pytest.raises(AssertionError, match='columns differ'):
        assert_class_by_class(
            scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))


def test_original_tables_give_the_same_conversion_as_the_counts(tmp_path):
    label2binlabel, pred_slice, _ = original_tables(lvis_categories('v0.5'))
    torch.save(label2binlabel, tmp_path / 'label2binlabel.pt')
    torch.save(pred_slice, tmp_path / 'pred_slice_with0.pt')
    torch.save(original_checkpoint(), tmp_path / 'gs.pth')
    from_tables = convert_checkpoint_file(
        str(tmp_path / 'gs.pth'), str(tmp_path / 'a.pth'), 'original',
        label2binlabel_file=str(tmp_path / 'label2binlabel.pt'),
        pred_slice_file=str(tmp_path / 'pred_slice_with0.pt'))
    from_counts = convert_bags_checkpoint(original_checkpoint(), 'original')
    for key, value in from_counts.checkpoint['state_dict'].items():
        assert torch.equal(from_tables.checkpoint['state_dict'][key], value)


def test_original_tables_with_other_groups_are_refused(tmp_path):
    label2binlabel, pred_slice, _ = original_tables(lvis_categories('v0.5'),
                                                    edges=(100, ))
    torch.save(label2binlabel, tmp_path / 'label2binlabel.pt')
    torch.save(pred_slice, tmp_path / 'pred_slice_with0.pt')
    torch.save(original_checkpoint(), tmp_path / 'gs.pth')
    with pytest.raises(CheckpointConversionError, match='gs.pth'):
        convert_checkpoint_file(
            str(tmp_path / 'gs.pth'), str(tmp_path / 'out.pth'), 'original',
            label2binlabel_file=str(tmp_path / 'label2binlabel.pt'),
            pred_slice_file=str(tmp_path / 'pred_slice_with0.pt'))


def test_original_two_bin_ablation_converts_with_its_edges():
    categories = lvis_categories('v0.5')
    _, pred_slice, splits = original_tables(categories, edges=(100, ))
    source = original_checkpoint()
    rows = int(pred_slice[-1].sum())  # 1230 + 1 + 3 groups
    state = source['state_dict']
    generator = torch.Generator().manual_seed(5)
    state['bbox_head.fc_cls.weight'] = torch.randn(
        rows, FC_CHANNELS, generator=generator, dtype=torch.float64)
    state['bbox_head.fc_cls.bias'] = torch.randn(rows, dtype=torch.float64)
    converted = convert_bags_checkpoint(source, 'original', bin_edges=(100, ))
    features = roi_features()
    scores, _ = our_scores(our_box_head(1230),
                           converted.checkpoint['state_dict'],
                           'roi_head.bbox_head.', features)
    v1_scores = original_scores(
        shared2fc_forward(state, 'bbox_head.', features)[0], pred_slice,
        splits)
    assert_class_by_class(
        scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))


def test_original_empty_bin_keeps_a_lone_others_row_that_we_drop():
    """With no class in a bin, the original still builds that group (one
    "others" row, whose softmax is 1 and scores nothing); our layout has no
    such group, so the row is dropped. Explicit counts: nothing in
    [10, 100)."""
    counts = [2, 500, 3, 1500, 7, 200]
    categories = [dict(id=label + 1, instance_count=count)
                  for label, count in enumerate(counts)]
    _, pred_slice, splits = original_tables(categories)
    assert len(splits[1]) == 0 and int(pred_slice[2, 1]) == 1
    rows = int(pred_slice[-1].sum())  # 7 v1 classes + 5 groups
    generator = torch.Generator().manual_seed(6)
    state = box_head_weights('bbox_head.', rows, 4 * 7, generator)
    state['rpn_head.rpn_conv.weight'] = torch.randn(2, 2, 3, 3)
    converted = convert_bags_checkpoint(
        dict(state_dict=state), 'original',
        groups=dict(instance_counts=counts))
    assert converted.layout.num_logits == rows - 1 == 11
    features = roi_features()
    scores, bbox_pred = our_scores(our_box_head(6),
                                   converted.checkpoint['state_dict'],
                                   'roi_head.bbox_head.', features)
    v1_logits, v1_deltas = shared2fc_forward(state, 'bbox_head.', features)
    v1_scores = original_scores(v1_logits, pred_slice, splits)
    assert_class_by_class(
        scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))
    torch.testing.assert_close(bbox_pred, v1_deltas[:, 4:], rtol=0,
                               atol=1e-12)


def test_original_eight_bin_ablation_converts_with_its_edges():
    edges = (5, 10, 50, 100, 500, 1000, 5000)
    _, pred_slice, splits = original_tables(lvis_categories('v0.5'),
                                            edges=edges)
    source = original_checkpoint()
    state = source['state_dict']
    rows = int(pred_slice[-1].sum())  # 1231 + 9 groups
    generator = torch.Generator().manual_seed(8)
    state['bbox_head.fc_cls.weight'] = torch.randn(
        rows, FC_CHANNELS, generator=generator, dtype=torch.float64)
    state['bbox_head.fc_cls.bias'] = torch.randn(rows, dtype=torch.float64)
    converted = convert_bags_checkpoint(source, 'original', bin_edges=edges)
    features = roi_features()
    scores, _ = our_scores(our_box_head(1230),
                           converted.checkpoint['state_dict'],
                           'roi_head.bbox_head.', features)
    v1_scores = original_scores(
        shared2fc_forward(state, 'bbox_head.', features)[0], pred_slice,
        splits)
    assert_class_by_class(
        scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))


def test_original_cascade_converts_every_stage_and_averages_like_it():
    """v1 CascadeRCNN/HTC test: average the three stages' raw logits, then
    the last head's _merge_score; MMDetection 3.x does the same with our
    head, so each stage's rows must be converted alike."""
    source = original_checkpoint(stages=3)
    state = convert_bags_checkpoint(source, 'original').checkpoint[
        'state_dict']
    features = roi_features()
    our_logits, v1_logits = [], []
    for stage in range(3):
        head = our_box_head(1230, reg_class_agnostic=True)
        head.load_state_dict(
            sub_state(state, f'roi_head.bbox_head.{stage}.'), strict=True)
        with torch.no_grad():
            our_logits.append(head(features)[0])
        v1_logits.append(shared2fc_forward(
            source['state_dict'], f'bbox_head.{stage}.', features)[0])
        assert state[f'roi_head.bbox_head.{stage}.fc_reg.weight'].size(0) == 4
    scores = head.loss_cls.get_activation(sum(our_logits) / 3)
    _, pred_slice, splits = original_tables(lvis_categories('v0.5'))
    v1_scores = original_scores(sum(v1_logits) / 3, pred_slice, splits)
    assert_class_by_class(
        scores, torch.cat([v1_scores[:, 1:], v1_scores[:, :1]], dim=1))


def fcn_mask_forward(state, prefix, features):
    """FCNMaskHead with one conv: conv3x3+relu, deconv x2 + relu, 1x1."""
    x = F.relu(F.conv2d(features, state[prefix + 'convs.0.conv.weight'],
                        state[prefix + 'convs.0.conv.bias'], padding=1))
    x = F.relu(F.conv_transpose2d(x, state[prefix + 'upsample.weight'],
                                  state[prefix + 'upsample.bias'], stride=2))
    return F.conv2d(x, state[prefix + 'conv_logits.weight'],
                    state[prefix + 'conv_logits.bias'])


def test_original_mask_logits_land_on_the_right_class():
    source = original_checkpoint(mask=True)
    state = convert_bags_checkpoint(source, 'original').checkpoint[
        'state_dict']
    head = MODELS.build(dict(type='FCNMaskHead', num_convs=1,
                             in_channels=IN_CHANNELS,
                             conv_out_channels=IN_CHANNELS,
                             num_classes=1230)).double().eval()
    head.load_state_dict(sub_state(state, 'roi_head.mask_head.'), strict=True)
    features = torch.randn(3, IN_CHANNELS, 14, 14, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ours = head(features)
    v1 = fcn_mask_forward(source['state_dict'], 'mask_head.', features)
    assert ours.shape == (3, 1230, 28, 28) and v1.size(1) == 1231
    # v1 channel l (0 = background) is our class l - 1
    torch.testing.assert_close(ours, v1[:, 1:], rtol=0, atol=1e-12)


# ----------------------------------------------------------------- eqlv2
def test_eqlv2_mask_rcnn_scores_equal_eqlv2s_get_activation():
    source = eqlv2_checkpoint()
    converted = convert_bags_checkpoint(source, 'eqlv2').checkpoint
    state = converted['state_dict']
    features = roi_features()
    head = our_box_head(1203)
    scores, bbox_pred = our_scores(head, state, 'roi_head.bbox_head.',
                                   features)
    assert head.layout.group_sizes == (200, 412, 334, 257)

    counts = [c['instance_count'] for c in lvis_categories('v1')]
    logits, deltas = shared2fc_forward(source['state_dict'],
                                       'roi_head.bbox_head.', features)
    assert_class_by_class(scores, eqlv2_scores(logits, counts))
    # mmdet 2.x regression and mask layers already have 3.x's layout
    torch.testing.assert_close(bbox_pred, deltas, rtol=0, atol=1e-12)
    for name in ('fc_reg.weight', 'fc_reg.bias'):
        assert torch.equal(state['roi_head.bbox_head.' + name],
                           source['state_dict']['roi_head.bbox_head.' + name])
    assert torch.equal(state['roi_head.mask_head.conv_logits.weight'],
                       source['state_dict'][
                           'roi_head.mask_head.conv_logits.weight'])


def test_eqlv2_v0_5_version_converts_with_lvis_v0_5_groups():
    source = eqlv2_checkpoint()
    state = source['state_dict']
    for key in list(state):
        if key.startswith('roi_head.'):
            del state[key]
    state.update(box_head_weights('roi_head.bbox_head.', 1236, 4 * 1230,
                                  torch.Generator().manual_seed(7)))
    converted = convert_bags_checkpoint(source, 'eqlv2', groups='lvis_v0.5')
    features = roi_features()
    scores, _ = our_scores(our_box_head(1230),
                           converted.checkpoint['state_dict'],
                           'roi_head.bbox_head.', features)
    counts = [c['instance_count'] for c in lvis_categories('v0.5')]
    logits, _ = shared2fc_forward(state, 'roi_head.bbox_head.', features)
    assert_class_by_class(scores, eqlv2_scores(logits, counts))


# ------------------------------------------------------- files and errors
def file_fingerprint(path):
    with open(path, 'rb') as file:
        return hashlib.sha256(file.read()).hexdigest(), os.stat(
            path).st_mtime_ns


def test_file_conversion_leaves_the_input_untouched_and_loads_safely(
        tmp_path):
    in_file, out_file = tmp_path / 'eqlv2_bags.pth', tmp_path / 'ours.pth'
    torch.save(eqlv2_checkpoint(), in_file)
    before = file_fingerprint(in_file)
    convert_checkpoint_file(str(in_file), str(out_file), 'eqlv2')
    assert file_fingerprint(in_file) == before

    loaded = torch.load(out_file, map_location='cpu', weights_only=True)
    assert set(loaded) == {'state_dict', 'meta'}
    conversion = loaded['meta']['mmdet_bags_conversion']
    assert conversion['source'] == 'eqlv2'
    assert conversion['source_file'] == 'eqlv2_bags.pth'
    assert conversion['source_mmdet_version'] == '2.3.0'
    assert len(loaded['meta']['dataset_meta']['classes']) == 1203
    state = loaded['state_dict']
    assert state['roi_head.bbox_head.loss_cls.instance_counts'].tolist() == [
        c['instance_count'] for c in lvis_categories('v1')]
    assert state['roi_head.bbox_head.loss_cls.bin_edges'].tolist() == [
        10, 100, 1000]

    from mmengine.runner.checkpoint import load_checkpoint
    head = our_box_head(1203)
    wrapper = torch.nn.Module()
    wrapper.roi_head = torch.nn.Module()
    wrapper.roi_head.bbox_head = head
    load_checkpoint(wrapper, str(out_file), map_location='cpu', strict=False)
    assert head.layout.group_sizes == (200, 412, 334, 257)


@pytest.mark.parametrize('source, mutate, message', [
    ('eqlv2', lambda c: c['state_dict'].update(
        {'roi_head.bbox_head.loss_cls.instance_counts': torch.zeros(1)}),
     'already in the mmdet-bags layout'),
    ('original', lambda c: None, 'not an MMDetection v1 two-stage checkpoint'
     '.*--source eqlv2'),
    ('eqlv2', lambda c: c['state_dict'].update(
        {'roi_head.bbox_head.fc_cls.weight': torch.zeros(1204, 16),
         'roi_head.bbox_head.fc_cls.bias': torch.zeros(1204)}),
     'ordinary softmax classifier, not a BAGS one'),
    ('eqlv2', lambda c: c['state_dict'].update(
        {'roi_head.bbox_head.fc_cls.weight': torch.zeros(1236, 16),
         'roi_head.bbox_head.fc_cls.bias': torch.zeros(1236)}),
     r'shape \(1236, 16\).*1209 rows.*Wrong class count'),
    ('eqlv2', lambda c: c['state_dict'].update(
        {'roi_head.bbox_head.fc_reg.weight': torch.zeros(4 * 1204, 16)}),
     r'fc_reg.weight has 4816 rows; expected 4 .*or 4 x 1203'),
    ('eqlv2', lambda c: [c['state_dict'].pop(k) for k in list(
        c['state_dict']) if 'bbox_head' in k],
     'no RoI bbox-head classifier'),
    ('unknown', lambda c: None, "unknown source layout 'unknown'"),
])
def test_bad_checkpoints_get_errors_naming_the_file(tmp_path, source, mutate,
                                                    message):
    checkpoint = eqlv2_checkpoint()
    mutate(checkpoint)
    in_file = tmp_path / 'bad_checkpoint.pth'
    torch.save(checkpoint, in_file)
    before = file_fingerprint(in_file)
    with pytest.raises(CheckpointConversionError) as error:
        convert_checkpoint_file(str(in_file), str(tmp_path / 'out.pth'),
                                source)
    assert str(in_file) in str(error.value)
    assert error.match(message)
    assert file_fingerprint(in_file) == before
    assert not (tmp_path / 'out.pth').exists()


def test_original_errors_name_the_file_and_the_expected_layout(tmp_path):
    checkpoint = original_checkpoint()
    in_file = tmp_path / 'gs_faster.pth'
    torch.save(checkpoint, in_file)
    with pytest.raises(CheckpointConversionError,
                       match='MMDetection v1 keys.*--source original'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'eqlv2')
    with pytest.raises(CheckpointConversionError,
                       match=r'gs_faster.pth was trained on 1230 classes '
                       r'\(meta CLASSES\) but the groups describe 1203'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'original', groups='lvis_v1')
    del checkpoint['meta']['CLASSES']
    torch.save(checkpoint, in_file)
    with pytest.raises(CheckpointConversionError,
                       match=r'gs_faster.pth.*1203 classes.*1209 rows'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'original', groups='lvis_v1')
    checkpoint['state_dict']['bbox_head.fc_reg.weight'] = torch.zeros(
        4 * 1230, FC_CHANNELS)
    torch.save(checkpoint, in_file)
    with pytest.raises(CheckpointConversionError,
                       match=r'gs_faster.pth.*fc_reg.weight has 4920'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'original')


def test_output_never_replaces_the_input_or_an_existing_file(tmp_path):
    in_file = tmp_path / 'eqlv2.pth'
    torch.save(eqlv2_checkpoint(), in_file)
    before = file_fingerprint(in_file)
    with pytest.raises(CheckpointConversionError,
                       match='would overwrite the input'):
        convert_checkpoint_file(str(in_file), str(in_file), 'eqlv2',
                                overwrite=True)
    assert file_fingerprint(in_file) == before
    (tmp_path / 'exists.pth').write_bytes(b'keep')
    with pytest.raises(CheckpointConversionError, match='--overwrite'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'exists.pth'),
                                'eqlv2')
    assert (tmp_path / 'exists.pth').read_bytes() == b'keep'


def test_pickled_objects_are_refused_unless_trusted(tmp_path):
    checkpoint = eqlv2_checkpoint()
    checkpoint['meta']['when'] = __import__('datetime').date(2020, 6, 1)
    in_file = tmp_path / 'pickled.pth'
    torch.save(checkpoint, in_file)
    with pytest.raises(CheckpointConversionError,
                       match='pickled.pth cannot be read with torch.load'
                       r'\(weights_only=True\).*--trust-pickle'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'eqlv2')
    convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'), 'eqlv2',
                            trust_pickle=True)
    assert torch.load(tmp_path / 'o.pth', weights_only=True)['meta']


def test_not_a_checkpoint_file_is_named(tmp_path):
    in_file = tmp_path / 'notes.pth'
    in_file.write_text('not a checkpoint')
    with pytest.raises(CheckpointConversionError,
                       match='notes.pth is not a readable PyTorch'):
        convert_checkpoint_file(str(in_file), str(tmp_path / 'o.pth'),
                                'original')
    with pytest.raises(CheckpointConversionError,
                       match='missing.pth: no such checkpoint file'):
        convert_checkpoint_file(str(tmp_path / 'missing.pth'),
                                str(tmp_path / 'o.pth'), 'original')


def load_tool():
    import importlib.util
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools',
                    'model_converters', 'convert_bags_checkpoint.py')
    spec = importlib.util.spec_from_file_location('convert_bags_checkpoint',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_line_tool_converts_and_reports_errors(tmp_path, capsys):
    tool = load_tool()
    in_file = tmp_path / 'gs_faster_rcnn_r50_fpn_1x_lvis_with0_bg8.pth'
    torch.save(original_checkpoint(), in_file)
    out_file = tmp_path / 'converted.pth'
    assert tool.main([str(in_file), str(out_file), '--source',
                      'original']) == 0
    printed = capsys.readouterr().out
    assert '1230 classes, 4 foreground groups' in printed
    assert 'fc_reg: background slot dropped' in printed
    assert 'roi_head.bbox_head.loss_cls.instance_counts' in torch.load(
        out_file, weights_only=True)['state_dict']
    # a second run refuses to replace the output; the wrong source is named
    assert tool.main([str(in_file), str(out_file), '--source',
                      'original']) == 1
    assert '--overwrite' in capsys.readouterr().err
    assert tool.main([str(in_file), str(tmp_path / 'b.pth'), '--source',
                      'eqlv2']) == 1
    assert '--source original' in capsys.readouterr().err


def test_class_names_in_the_meta_must_be_the_groups_classes(tmp_path):
    checkpoint = original_checkpoint()
    classes = list(checkpoint['meta']['CLASSES'])
    classes[3], classes[4] = classes[4], classes[3]
    checkpoint['meta']['CLASSES'] = tuple(classes)
    with pytest.raises(CheckpointConversionError,
                       match=r'gs.pth: 2 classes of its meta CLASSES.*label '
                       "3: 'alarm_clock' vs 'airplane'"):
        convert_bags_checkpoint(checkpoint, 'original', path='gs.pth')
    checkpoint['meta']['CLASSES'] = tuple(classes[:-1])
    with pytest.raises(CheckpointConversionError,
                       match='gs.pth was trained on 1229 classes'):
        convert_bags_checkpoint(checkpoint, 'original', path='gs.pth')
