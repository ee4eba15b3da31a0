"""The fused group softmax equals the per-group implementation it replaced
(``reference_group_softmax.py``), values and gradients, to float32 rounding.

Every test runs three times: with the CPU kernel (``group_softmax_cpu.c``,
which serves float32 on the CPU) as built for this CPU (its AVX-512 passes
where it has them), with the kernel's portable loops, and with the tensor
implementation (every other device and dtype, and the fallback without a C
compiler).
"""
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from mmdet_bags.grouping import GroupLayout, build_group_layout
from mmdet_bags.models.losses import cpu_kernel
from mmdet_bags.models.losses import (GroupColumns, GroupSoftmaxLoss,
                                      group_cross_entropy,
                                      group_softmax_scores)
from reference_group_softmax import (ReferenceGroupCrossEntropy,
                                     reference_activation, reference_loss)

HAND_COUNTS = [5, 50, 500, 5000, 0, 20]


@pytest.fixture(autouse=True,
                params=['cpu_kernel', 'cpu_kernel_portable', 'tensor_ops'])
def implementation(request, monkeypatch):
    """Which implementation float32 CPU logits take."""
    if request.param.startswith('cpu_kernel'):
        monkeypatch.setenv(
            'MMDET_BAGS_CPU_KERNEL',
            'portable' if request.param.endswith('portable') else '1')
        assert cpu_kernel.library() is not None, cpu_kernel.failure()
        if request.param.endswith('portable'):
            assert not cpu_kernel.uses_avx512()
    else:
        monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '0')
        assert cpu_kernel.library() is None
    return request.param
PAPER_8_BINS = (5, 10, 50, 100, 500, 1000, 5000)
#: 22 groups of 2 to 61 columns: more groups than the kernel's AVX-512
#: lookup of group scales holds in a register (16), and every tail length.
MANY_BINS = (2, 3, 4, 5, 7, 9, 12, 15, 19, 24, 30, 37, 45, 55, 67, 80, 100,
             130, 170, 220, 280)


def layouts():
    lvis = build_group_layout('lvis_v1')
    return {
        'hand': GroupLayout.from_counts(HAND_COUNTS),
        'lvis_v1': lvis,
        'lvis_v1_8_bins': GroupLayout.from_counts(lvis.instance_counts,
                                                  PAPER_8_BINS),
        'many_groups': GroupLayout.from_counts(
            [(7 * i) % 300 + 1 for i in range(300)], MANY_BINS),
    }


LAYOUTS = layouts()


def group_slices(layout):
    return [(layout.group_slice(k).start, layout.group_slice(k).stop)
            for k in range(layout.num_groups)]


def random_logits(layout, num_rois, scale, seed=0, dtype=torch.float32):
    """Normal logits times ``scale`` (uniform in +-1e4 for 1e4); one group
    300 below the rest, far past where exp(z - row max) underflows."""
    generator = torch.Generator().manual_seed(seed)
    shape = (num_rois, layout.num_logits)
    if scale >= 1e4:
        logits = (torch.rand(shape, generator=generator) * 2 - 1) * scale
    else:
        logits = torch.randn(shape, generator=generator) * scale
        logits[:, layout.group_slice(layout.num_groups - 1)] -= 300
    return logits.to(dtype)


def random_labels(layout, num_rois, seed=0, background_fraction=0.6):
    generator = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(0, layout.num_classes, (num_rois, ),
                           generator=generator)
    background = torch.rand(num_rois, generator=generator) < \
        background_fraction
    return labels.masked_fill(background, layout.num_classes)


def assert_close(actual, expected, scale=1.0):
    """float32 rounding: relative 1e-5 (PyTorch's softmax kernel is good to
    about 3e-6), absolute 1e-6 of the logits' magnitude."""
    torch.testing.assert_close(actual, expected, rtol=1e-5,
                               atol=1e-6 * max(scale, 1.0),
                               check_dtype=True)


# ------------------------------------------------------ low-level functions
@pytest.mark.parametrize('block_size', [1, 2, 3, 4, 8, 32, 64, 2048])
@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_cross_entropy_and_gradient_match_per_group_softmax(name, block_size):
    layout = LAYOUTS[name]
    columns = GroupColumns(group_slices(layout), layout.column_of_label,
                           block_size=block_size)
    logits = random_logits(layout, 37, scale=4.0, seed=block_size)
    labels = random_labels(layout, 37)
    targets = torch.stack([
        torch.where(layout.group_of_label[labels] == k,
                    layout.column_of_label[labels],
                    layout.extra_columns[k])
        for k in range(layout.num_groups)], dim=1)
    upstream = torch.rand(37, layout.num_groups)
    ours = logits.clone().requires_grad_(True)
    reference = logits.clone().requires_grad_(True)
    ce = group_cross_entropy(ours, targets, columns)
    expected = ReferenceGroupCrossEntropy.apply(
        reference, targets - layout.extra_columns, group_slices(layout))
    assert_close(ce, expected)
    (ce * upstream).sum().backward()
    (expected * upstream).sum().backward()
    assert_close(ours.grad, reference.grad)
    assert_close(group_softmax_scores(logits, columns),
                 reference_activation(layout, logits))


def test_block_structure_of_lvis_v1():
    """Groups of 2, 201, 413, 335 and 258 columns: 1, 7, 13, 11 and 9
    blocks of 32, so 1312 padded places for 1209 columns; no block holds
    two groups and every column has its own place."""
    layout = LAYOUTS['lvis_v1']
    columns = GroupColumns(group_slices(layout), layout.column_of_label)
    assert (columns.num_blocks, columns.padded_width) == (41, 1312)
    assert columns.blocks_per_group == 13
    assert columns.group_of_block.bincount().tolist() == [1, 7, 13, 11, 9]
    position = columns.padded_position
    assert torch.equal(columns.source_columns[position],
                       torch.arange(layout.num_logits))
    assert len(set(position.tolist()) | set(columns.padding.tolist())) == \
        1312
    group_of_place = columns.group_of_block.repeat_interleave(32)
    for k in range(layout.num_groups):
        places = group_of_place[position[layout.group_slice(k)]]
        assert (places == k).all()


def test_group_columns_refuse_gaps():
    with pytest.raises(ValueError, match='tile the columns'):
        GroupColumns([(0, 2), (3, 5)])
    with pytest.raises(ValueError, match='block_size'):
        GroupColumns([(0, 2)], block_size=0)
    with pytest.raises(ValueError, match=r'column_of_label must hold columns'):
        GroupColumns([(0, 2), (2, 5)], column_of_label=torch.tensor([0, 5]))


# ------------------------------------------------------- the loss module
def loss_module(layout, **kwargs):
    return GroupSoftmaxLoss(num_classes=layout.num_classes, groups=layout,
                            **kwargs)


def compare_losses(layout, logits, labels, label_weights=None,
                   others_sample_ratio=8.0, reduction='mean', seed=0):
    loss = loss_module(layout, others_sample_ratio=others_sample_ratio,
                       reduction=reduction, loss_weight=0.7)
    ours = logits.clone().requires_grad_(True)
    reference = logits.clone().requires_grad_(True)
    torch.manual_seed(seed)
    result = loss(ours, labels, label_weights)
    torch.manual_seed(seed)
    expected = reference_loss(layout, reference, labels, label_weights,
                              others_sample_ratio, reduction, 0.7)
    assert result.keys() == expected.keys()
    scale = float(logits.abs().max()) if logits.numel() else 1.0
    for key in expected:
        assert_close(result[key], expected[key], scale)
    result['loss_cls'].sum().backward()
    expected['loss_cls'].sum().backward()
    if logits.dtype == torch.float32:
        assert_close(ours.grad, reference.grad)
    else:  # both round the same float32 gradient to half precision
        torch.testing.assert_close(ours.grad, reference.grad)
    return result


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
@pytest.mark.parametrize('scale', [1.0, 30.0, 1e4])
@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_loss_matches_reference_for_dtypes_and_magnitudes(name, scale, dtype):
    layout = LAYOUTS[name]
    num_rois = 96
    logits = random_logits(layout, num_rois, scale, dtype=dtype)
    compare_losses(layout, logits, random_labels(layout, num_rois))


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('others_sample_ratio', [None, 0.5, 8.0])
def test_loss_matches_reference_for_reductions_and_sampling(
        reduction, others_sample_ratio):
    layout = LAYOUTS['lvis_v1']
    compare_losses(layout, random_logits(layout, 200, 3.0),
                   random_labels(layout, 200), reduction=reduction,
                   others_sample_ratio=others_sample_ratio)


def test_loss_matches_reference_with_label_weights():
    layout = LAYOUTS['lvis_v1']
    generator = torch.Generator().manual_seed(3)
    weights = torch.rand(128, generator=generator) * 2
    weights[::7] = 0  # ignored RoIs
    compare_losses(layout, random_logits(layout, 128, 3.0),
                   random_labels(layout, 128), label_weights=weights)


@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_groups_without_positives_contribute_nothing(name):
    """Only background RoIs: every group k >= 1 is empty."""
    layout = LAYOUTS[name]
    labels = torch.full((40, ), layout.num_classes)
    result = compare_losses(layout, random_logits(layout, 40, 2.0), labels)
    for group in range(1, layout.num_groups):
        assert result[f'bags_group{group}_ce'].item() == 0.0


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_empty_batch(reduction):
    layout = LAYOUTS['lvis_v1']
    logits = torch.zeros(0, layout.num_logits, requires_grad=True)
    loss = loss_module(layout, reduction=reduction)
    result = loss(logits, torch.zeros(0, dtype=torch.long))
    assert result['loss_cls'].sum().item() == 0.0
    result['loss_cls'].sum().backward()
    assert logits.grad.shape == logits.shape
    assert loss.get_activation(logits.detach()).shape == (
        0, layout.num_classes + 1)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16, torch.float64])
@pytest.mark.parametrize('scale', [1.0, 30.0, 1e4])
@pytest.mark.parametrize('name', sorted(LAYOUTS))
def test_scores_match_reference(name, scale, dtype):
    layout = LAYOUTS[name]
    logits = random_logits(layout, 64, scale, dtype=dtype)
    scores = loss_module(layout).get_activation(logits)
    expected = reference_activation(layout, logits)
    assert scores.dtype == dtype
    if dtype == torch.float32:
        assert_close(scores, expected)
    else:
        torch.testing.assert_close(scores, expected)


# ----------------------------------------------- what the hot path runs
class RecordOps(TorchDispatchMode):

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func.overloadpacket.__name__))
        return func(*args, **(kwargs or {}))


def ops_of_a_training_call(layout):
    loss = loss_module(layout)
    logits = random_logits(layout, 64, 2.0).requires_grad_(True)
    labels = random_labels(layout, 64)
    with RecordOps() as recorder:
        loss(logits, labels, torch.ones(64))['loss_cls'].backward()
        loss.get_activation(logits.detach())
    return recorder.ops


def test_operations_do_not_depend_on_the_number_of_groups():
    """No Python loop over groups: 4 groups or 9, the same operations."""
    four = ops_of_a_training_call(LAYOUTS['lvis_v1'])
    nine = ops_of_a_training_call(LAYOUTS['lvis_v1_8_bins'])
    assert LAYOUTS['lvis_v1_8_bins'].num_groups == 9
    assert four == nine


def test_no_host_synchronisation():
    """No .item(), nonzero or copy to the host on the hot path."""
    ops = ops_of_a_training_call(LAYOUTS['lvis_v1'])
    for op in ('_local_scalar_dense', 'nonzero', 'item', 'masked_select'):
        assert op not in ops
