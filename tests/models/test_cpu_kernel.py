"""The fused CPU kernel (``group_softmax_cpu.c``): built on first use, the
same results as the tensor implementation, checked inputs, and a working
fallback where it cannot be built. (The comparisons with the per-group
reference run in test_fused_group_softmax.py, with and without it.)
"""
import pytest
import torch

from mmdet_bags.grouping import GroupLayout, build_group_layout
from mmdet_bags.models.losses import (GroupColumns, GroupSoftmaxLoss,
                                      cpu_kernel, group_cross_entropy,
                                      group_softmax_scores, select_rois)

LVIS = build_group_layout('lvis_v1')


def lvis_columns():
    return GroupColumns(
        [(LVIS.group_slice(k).start, LVIS.group_slice(k).stop)
         for k in range(LVIS.num_groups)], LVIS.column_of_label)


def targets_of(labels):
    loss = GroupSoftmaxLoss(num_classes=LVIS.num_classes, groups=LVIS)
    return loss.target_columns_of_label[labels]


def both(function, monkeypatch):
    """``function()`` with the kernel, then with tensor operations."""
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    assert cpu_kernel.library() is not None, cpu_kernel.failure()
    fused = function()
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '0')
    return fused, function()


def test_kernel_builds_here(monkeypatch):
    """This machine has a C compiler (it compiled mmcv): the kernel must
    build, or every CPU training silently runs the slow path."""
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    assert cpu_kernel.library() is not None, cpu_kernel.failure()


def test_native_build_uses_avx512_where_the_cpu_has_it(monkeypatch):
    """The speed of the scores rests on the AVX-512 passes: a CPU with
    AVX-512 must get them (the build flags target this CPU), the portable
    build never."""
    with open('/proc/cpuinfo') as cpuinfo:
        flags = next((line.split() for line in cpuinfo
                      if line.startswith('flags')), [])
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    assert cpu_kernel.variant() == 'native'
    assert cpu_kernel.uses_avx512() == ('avx512f' in flags)
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', 'portable')
    assert cpu_kernel.variant() == 'portable'
    assert cpu_kernel.uses_avx512() is False
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', 'fast')
    with pytest.raises(ValueError, match='MMDET_BAGS_CPU_KERNEL'):
        cpu_kernel.library()


@pytest.mark.parametrize('width', list(range(1, 40)) + [201, 413])
def test_native_and_portable_builds_agree(width, monkeypatch):
    """Every tail length of the 16-lane passes, -inf logits, logits far
    below the row and of magnitude 1e4: the two builds give the same loss,
    gradient and scores to float32 rounding."""
    generator = torch.Generator().manual_seed(width)
    counts = [5] * (width - 1) + [50] * 3 + [500] * 2  # groups 1..3
    layout = GroupLayout.from_counts(counts)
    logits = torch.randn(33, layout.num_logits, generator=generator) * 6
    logits[3] *= 1e4 / 6
    logits[4, layout.group_slice(1)] -= 500
    logits[5, layout.group_slice(1).start + 1] = float('-inf')
    labels = torch.randint(0, layout.num_classes + 1, (33, ),
                           generator=generator)
    loss = GroupSoftmaxLoss(num_classes=layout.num_classes, groups=layout)
    columns = loss.group_columns
    targets = loss.target_columns_of_label[labels]
    upstream = torch.rand(33, layout.num_groups, generator=generator)

    def run(which):
        monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', which)
        leaf = logits.clone().requires_grad_(True)
        ce = group_cross_entropy(leaf, targets, columns)
        (ce * upstream).sum().backward()
        return ce.detach(), leaf.grad, group_softmax_scores(logits, columns)

    for native, portable in zip(run('1'), run('portable')):
        torch.testing.assert_close(native, portable, rtol=2e-6, atol=1e-30)


def test_scores_of_a_copied_or_labelless_column_set(monkeypatch):
    """The kernel reads the groups' buffers by address at every call: a
    deep copy (as EMA hooks make) gives the same scores after the original
    is gone; columns built without column_of_label are refused."""
    import copy
    import gc
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    logits = torch.randn(9, LVIS.num_logits)
    columns = lvis_columns()
    expected = group_softmax_scores(logits, columns)
    duplicate = copy.deepcopy(columns)
    del columns
    gc.collect()
    assert torch.equal(group_softmax_scores(logits, duplicate), expected)
    no_labels = GroupColumns([(LVIS.group_slice(k).start,
                               LVIS.group_slice(k).stop)
                              for k in range(LVIS.num_groups)])
    with pytest.raises(ValueError, match='column_of_label'):
        group_softmax_scores(logits, no_labels)


def test_nan_stays_in_its_group(monkeypatch):
    """A NaN logit makes its own group's loss, gradient and scores NaN and
    no other group's, with the kernel as without it."""
    logits = torch.randn(4, LVIS.num_logits)
    nan_group = LVIS.group_slice(2)
    logits[1, nan_group.start + 3] = float('nan')
    logits[2, LVIS.group_slice(3).start] = float('inf')
    labels = torch.tensor([0, 1, 2, LVIS.num_classes])
    columns = lvis_columns()

    def run():
        leaf = logits.clone().requires_grad_(True)
        ce = group_cross_entropy(leaf, targets_of(labels), columns)
        ce.sum().backward()
        return ce.detach(), leaf.grad, group_softmax_scores(logits, columns)

    (ce, grad, scores), (ce_t, grad_t, scores_t) = both(run, monkeypatch)
    for fused, tensors in ((ce, ce_t), (grad, grad_t), (scores, scores_t)):
        torch.testing.assert_close(fused, tensors, equal_nan=True)
    assert ce[1, 2].isnan() and ce[2, 3].isnan()
    assert not ce[1, [0, 1, 3, 4]].isnan().any()
    assert grad[1, nan_group].isnan().all()
    assert not grad[1, :nan_group.start].isnan().any()
    assert not grad[0].isnan().any() and not scores[0].isnan().any()


def test_backward_uses_the_forward_implementation(monkeypatch):
    """The kernel switched off between forward and backward, and the
    returned values changed in place: the gradient is still right."""
    logits = torch.randn(8, LVIS.num_logits)
    labels = torch.randint(0, LVIS.num_classes + 1, (8, ))
    expected = logits.clone().requires_grad_(True)
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '0')
    group_cross_entropy(expected, targets_of(labels),
                        lvis_columns()).sum().backward()
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    leaf = logits.clone().requires_grad_(True)
    ce = group_cross_entropy(leaf, targets_of(labels), lvis_columns())
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '0')
    ce.mul_(2).sum().backward()
    torch.testing.assert_close(leaf.grad, 2 * expected.grad)


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    """Rows are split between threads, never a row's sums: same bits."""
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    logits = torch.randn(257, LVIS.num_logits) * 5
    labels = torch.randint(0, LVIS.num_classes + 1, (257, ))
    columns = lvis_columns()
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2, 3):
            torch.set_num_threads(count)
            leaf = logits.clone().requires_grad_(True)
            ce = group_cross_entropy(leaf, targets_of(labels), columns)
            ce.sum().backward()
            results.append((ce.detach(), leaf.grad,
                            group_softmax_scores(logits, columns)))
    finally:
        torch.set_num_threads(threads)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert torch.equal(a, b)


@pytest.mark.parametrize('ratio', [8.0, 3.3, 0.5, 0.0, None])
@pytest.mark.parametrize('num_rois', [0, 1, 9, 512, 3000])
def test_sampling_selects_the_same_rois(ratio, num_rois, monkeypatch):
    """The same uniform keys from the same RNG, the same RoIs kept."""
    generator = torch.Generator().manual_seed(num_rois)
    labels = torch.randint(0, LVIS.num_classes + 1, (num_rois, ),
                           generator=generator)
    labels[torch.rand(num_rois, generator=generator) < 0.6] = \
        LVIS.num_classes
    valid = torch.rand(num_rois, generator=generator) > 0.1

    def run():
        torch.manual_seed(7)
        return select_rois(labels, LVIS.group_of_label, valid, ratio,
                           LVIS.num_groups)

    fused, tensors = both(run, monkeypatch)
    assert fused.dtype == torch.bool and torch.equal(fused, tensors)


def test_sampling_keeps_exactly_floor_ratio_positives_with_tied_keys():
    """Tied keys (all equal): still exactly floor(beta * |P_k|) others,
    the first rows."""
    kernel = cpu_kernel.library()
    layout = GroupLayout.from_counts([5, 500])  # groups 0, 1, 2
    labels = torch.tensor([0] * 3 + [2] * 20)  # 3 positives of group 1
    valid = torch.ones(23, dtype=torch.bool)
    keys = torch.full((23, layout.num_groups), 0.5)
    selected = torch.empty((23, layout.num_groups), dtype=torch.bool)
    group_of_label = layout.group_of_label.contiguous()
    bad = kernel.bags_select_rois(labels.data_ptr(), valid.data_ptr(), 23,
                                  group_of_label.data_ptr(),
                                  layout.num_classes, layout.num_groups, 2.5,
                                  keys.data_ptr(), selected.data_ptr())
    assert bad == -1
    group = int(layout.group_of_label[0])
    assert selected[:3, group].all()
    others = selected[3:, group]
    assert others.sum() == 7 and others[:7].all()  # floor(2.5 * 3)


def test_bad_labels_and_targets_are_refused(monkeypatch):
    monkeypatch.setenv('MMDET_BAGS_CPU_KERNEL', '1')
    with pytest.raises(RuntimeError, match=r'labels must be in \[0, 1203\]'):
        select_rois(torch.tensor([3, 1204]), LVIS.group_of_label,
                    torch.ones(2, dtype=torch.bool), 8.0, LVIS.num_groups)
    with pytest.raises(RuntimeError, match='labels must be in'):
        select_rois(torch.tensor([-1]), LVIS.group_of_label,
                    torch.ones(1, dtype=torch.bool), 8.0, LVIS.num_groups)
    targets = targets_of(torch.tensor([0, 1]))
    targets[1, 2] = LVIS.group_slice(1).start  # a column of another group
    with pytest.raises(ValueError, match=r'target_columns\[1, 2\]'):
        group_cross_entropy(torch.randn(2, LVIS.num_logits), targets,
                            lvis_columns())
    with pytest.raises(ValueError, match='not a column of group 0'):
        group_softmax_scores(torch.randn(2, LVIS.num_logits), lvis_columns(),
                             foreground_column=LVIS.num_logits)


def test_without_a_compiler_the_tensor_path_is_used(tmp_path, monkeypatch):
    """No compiler: one warning naming the reason, the same loss."""
    labels = torch.randint(0, LVIS.num_classes + 1, (64, ))
    logits = torch.randn(64, LVIS.num_logits)
    loss = GroupSoftmaxLoss(num_classes=LVIS.num_classes, groups=LVIS)

    def run():
        torch.manual_seed(1)
        return loss(logits, labels)['loss_cls']

    expected = run()
    monkeypatch.setattr(cpu_kernel, '_libraries', {})
    monkeypatch.setattr(cpu_kernel, '_failures', {})
    monkeypatch.setenv('MMDET_BAGS_KERNEL_DIR', str(tmp_path))
    monkeypatch.setenv('CC', str(tmp_path / 'no-such-compiler'))
    with pytest.warns(UserWarning, match='no C compiler found'):
        assert cpu_kernel.library() is None
    assert 'no-such-compiler' in cpu_kernel.failure()
    torch.testing.assert_close(run(), expected)
    assert list(tmp_path.iterdir()) == []


def test_one_build_per_cpu_kind(tmp_path, monkeypatch):
    """The cache key holds this CPU's flags (-march=native): a shared home
    directory gets a build per CPU kind, never another machine's."""
    monkeypatch.setattr(cpu_kernel, '_libraries', {})
    monkeypatch.setattr(cpu_kernel, '_failures', {})
    monkeypatch.setenv('MMDET_BAGS_KERNEL_DIR', str(tmp_path))
    assert cpu_kernel.library() is not None
    first = sorted(path.name for path in tmp_path.iterdir())
    monkeypatch.setattr(cpu_kernel, '_libraries', {})
    monkeypatch.setattr(cpu_kernel, '_cpu_signature', lambda: 'other cpu')
    assert cpu_kernel.library() is not None
    both_kinds = sorted(path.name for path in tmp_path.iterdir())
    assert len(first) == 1 and len(both_kinds) == 2
    assert all(name.endswith('.so') for name in both_kinds)


def test_unwritable_cache_falls_back_to_a_temporary_folder(tmp_path,
                                                           monkeypatch):
    """The cache folder cannot be created (a file is in the way; a read-only
    home gives the same error): a per-user temporary folder is used."""
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    temporary = tmp_path / 'tmp'
    temporary.mkdir()
    monkeypatch.setattr(cpu_kernel, '_libraries', {})
    monkeypatch.setattr(cpu_kernel, '_failures', {})
    monkeypatch.setenv('MMDET_BAGS_KERNEL_DIR', str(blocker / 'kernels'))
    monkeypatch.setattr(cpu_kernel.tempfile, 'gettempdir',
                        lambda: str(temporary))
    # A compiler given with a flag, as CC often is.
    monkeypatch.setenv('CC', 'cc -m64')
    assert cpu_kernel.library() is not None, cpu_kernel.failure()
    built = list(temporary.glob('mmdet-bags-kernels-*/group_softmax_cpu-*.so'))
    assert len(built) == 1
