"""The two stack breakages mmdet-bags fixes on import, each pinned by a test.

Each fix has a test that exercises MMDetection/MMEngine the way a user does
(and so fails without the fix), and a test that shows the breakage is real
when the fix is taken away, so the first test cannot pass vacuously.
"""
import pickle

import numpy as np
import pytest
import torch

from detection_helpers import box_polygon, write_small_lvis_file


# ---------------------------------------------------------------- lvis / numpy
def _perfect_lvis_predictions(content):
    """Data samples that predict every ground-truth instance exactly."""
    from pycocotools import mask as mask_utils
    category_ids = sorted(c['id'] for c in content['categories'])
    samples = []
    for image in content['images']:
        anns = [a for a in content['annotations']
                if a['image_id'] == image['id']]
        boxes, labels, masks = [], [], []
        for ann in anns:
            x, y, w, h = ann['bbox']
            boxes.append([x, y, x + w, y + h])
            labels.append(category_ids.index(ann['category_id']))
            rles = mask_utils.frPyObjects(ann['segmentation'], image['height'],
                                          image['width'])
            masks.append(mask_utils.decode(mask_utils.merge(rles)))
        samples.append(
            dict(img_id=image['id'],
                 ori_shape=(image['height'], image['width']),
                 pred_instances=dict(
                     bboxes=torch.tensor(boxes, dtype=torch.float32),
                     scores=torch.linspace(0.9, 0.5, len(anns)),
                     labels=torch.tensor(labels),
                     masks=torch.from_numpy(np.stack(masks)).bool())))
    return samples


def _evaluate_with_mmdet_lvis_metric(tmp_path):
    from mmdet.evaluation import LVISMetric
    ann_file = tmp_path / 'lvis_v1_small.json'
    content = write_small_lvis_file(ann_file)
    metric = LVISMetric(ann_file=str(ann_file), metric=['bbox', 'segm'])
    metric.dataset_meta = dict(
        classes=tuple(c['name'] for c in content['categories']))
    metric.process({}, _perfect_lvis_predictions(content))
    return metric.evaluate(size=len(content['images']))


# numpy < 1.24 (allowed by setup.cfg's plain `numpy`) still has the aliases:
# there is nothing to fix and nothing crashes, so these tests do not apply.
needs_numpy_without_aliases = pytest.mark.skipif(
    hasattr(np, 'float'), reason=f'numpy {np.__version__} still has np.float')


@needs_numpy_without_aliases
def test_numpy_really_lacks_np_float():
    """The fix must not work by bringing the removed alias back globally."""
    import mmdet_bags  # noqa: F401  (the fixes are applied)
    assert not hasattr(np, 'float')
    assert not hasattr(np, 'int')


def test_mmdet_lvis_metric_completes_bbox_and_segm(tmp_path):
    results = _evaluate_with_mmdet_lvis_metric(tmp_path)
    # Every instance predicted exactly: AP is 1 for boxes and masks, and so
    # is the AP of each frequency group (one category of each).
    for iou_type in ('bbox', 'segm'):
        for key in ('AP', 'APr', 'APc', 'APf', 'AP50'):
            assert results[f'lvis/{iou_type}_{key}'] == pytest.approx(1.0), \
                (iou_type, key, results)


@needs_numpy_without_aliases
def test_lvis_metric_crashes_on_np_float_without_the_fix(tmp_path,
                                                          monkeypatch):
    import lvis.eval
    monkeypatch.setattr(lvis.eval, 'np', np)
    with pytest.raises(AttributeError, match='float'):
        _evaluate_with_mmdet_lvis_metric(tmp_path)


def test_numpy_view_forwards_everything_else():
    from mmdet_bags.compat import NumpyWithRemovedAliases
    view = NumpyWithRemovedAliases()
    assert view.float is float and view.int is int and view.object is object
    assert view.bool is np.bool  # numpy 2 has np.bool again: not replaced
    assert view.float64 is np.float64 and view.cumsum is np.cumsum
    assert view.arange(3).dtype == np.arange(3).dtype
    with pytest.raises(AttributeError):
        view.no_such_numpy_name


# ------------------------------------------------ torch weights_only / mmengine
class ToyDataset(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=generator),
                    targets=torch.randn(1, generator=generator))


def _toy_runner(work_dir, max_iters, **kwargs):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, inputs, targets, mode='tensor'):
            outputs = self.linear(inputs)
            if mode == 'loss':
                return dict(loss=((outputs - targets)**2).mean())
            return outputs

    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[2]),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=max_iters,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        experiment_name=f'toy_{work_dir.name}',
        **kwargs)


@pytest.fixture
def mmengine_checkpoint(tmp_path):
    work_dir = tmp_path / 'first'
    runner = _toy_runner(work_dir, max_iters=3)
    runner.train()
    checkpoint = work_dir / 'iter_3.pth'
    assert checkpoint.is_file()
    return checkpoint


@pytest.fixture
def without_allow_list():
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    torch.serialization.add_safe_globals(saved)


def test_checkpoint_holds_more_than_tensors(mmengine_checkpoint,
                                            without_allow_list):
    """The checkpoint really needs the allow-list (else the test is vacuous)."""
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
        str(mmengine_checkpoint))
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
    assert 'builtins.getattr' in unsafe
    assert any(name.startswith('numpy') for name in unsafe)


def test_torch_load_defaults_to_weights_only_and_reads_the_checkpoint(
        mmengine_checkpoint):
    checkpoint = torch.load(str(mmengine_checkpoint))
    assert checkpoint['meta']['iter'] == 3
    assert 'message_hub' in checkpoint


def test_runner_load_from_and_resume(mmengine_checkpoint, tmp_path):
    # load_from: weights only, training starts at iteration 0.
    runner = _toy_runner(tmp_path / 'load_from', max_iters=4,
                         load_from=str(mmengine_checkpoint))
    runner.train()
    assert runner.iter == 4
    # resume: iteration counter, optimizer and message hub come back.
    runner = _toy_runner(tmp_path / 'resume', max_iters=5,
                         load_from=str(mmengine_checkpoint), resume=True)
    runner.train()
    assert runner.iter == 5
    assert (tmp_path / 'resume' / 'iter_5.pth').is_file()


def test_a_fresh_process_loads_the_checkpoint(mmengine_checkpoint):
    """How `mim test -C` and `load_from` meet a checkpoint: in a new
    interpreter where no HistoryBuffer exists yet."""
    import subprocess
    import sys
    script = ('import mmdet_bags, torch; '
              f'ckpt = torch.load({str(mmengine_checkpoint)!r}); '
              "print(ckpt['meta']['iter'])")
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith('3')


def test_without_the_allow_list_torch_refuses_the_checkpoint(
        mmengine_checkpoint, without_allow_list):
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(mmengine_checkpoint))


class Payload:
    """An arbitrary class: a tampered checkpoint could run its __reduce__."""

    def __init__(self):
        self.data = 1


def test_other_pickled_objects_are_still_refused(tmp_path):
    path = tmp_path / 'tampered.pth'
    torch.save(dict(state_dict=dict(weight=torch.zeros(1)),
                    meta=dict(payload=Payload())), str(path))
    with pytest.raises(pickle.UnpicklingError, match='Payload'):
        torch.load(str(path))
    from mmengine.runner import load_checkpoint
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(torch.nn.Linear(1, 1), str(path))


class GetattrPayload:
    """Unpickles as getattr(numpy.ndarray, 'tofile'): an allowed class, but
    an attribute no checkpoint needs (a writer of arbitrary files)."""

    def __reduce__(self):
        return (getattr, (np.ndarray, 'tofile'))


def test_getattr_in_a_checkpoint_reaches_only_history_buffer_methods(
        tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer

    from mmdet_bags.compat import history_buffer_attribute
    assert history_buffer_attribute(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        history_buffer_attribute(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        history_buffer_attribute(np, 'load')
    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=GetattrPayload()), str(path))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        torch.load(str(path))
