"""Refuse to train or test when the BAGS groups describe other classes than
the dataset.

The groups of a :class:`~mmdet_bags.models.GroupSoftmaxLoss` come from
per-class training counts (a built-in LVIS table, an annotation file or
explicit counts) that are matched to labels by position. If the dataset
labels its classes differently (another LVIS version, a subset, a custom
class list), every class lands in a wrong group and nothing fails: the
model trains, silently wrong. ``num_classes`` is already checked when the
head is built; this hook compares the class *names* with the dataset's.
"""
from typing import Iterator, List, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper

from mmdet.registry import HOOKS

from mmdet_bags.grouping.class_names import class_name_mismatch


def group_softmax_losses(model) -> Iterator:
    """Every ``GroupSoftmaxLoss`` in ``model`` (a model wrapper is
    unwrapped), with its module name."""
    from mmdet_bags.models.losses import GroupSoftmaxLoss
    if is_model_wrapper(model):
        model = model.module
    for name, module in model.named_modules():
        if isinstance(module, GroupSoftmaxLoss):
            yield name, module


def dataset_classes(dataset) -> Optional[Sequence[str]]:
    """``metainfo['classes']`` of a dataset (wrappers such as
    ``ClassBalancedDataset`` report their inner dataset's)."""
    metainfo = getattr(dataset, 'metainfo', None)
    if not isinstance(metainfo, dict):
        return None
    return metainfo.get('classes')


@HOOKS.register_module()
class CheckGroupClassesHook(Hook):
    """Check, before training, validation and testing, that every BAGS
    loss's groups name the dataset's classes label by label.

    Groups built from a built-in table (``groups='lvis_v1'``) must list the
    dataset's ``metainfo['classes']`` in the same order (MMDetection's one
    spelling difference, 'stereo'/'stero', is allowed). Groups counted from
    an annotation file must name the same classes (in any order: labels then
    follow the file, as in MMDetection's datasets). Groups from explicit
    counts or from a checkpoint carry no names; for them only the number of
    classes is compared. A dataset without ``metainfo['classes']`` is
    skipped with a warning.

    Args:
        strict (bool): raise on a mismatch (default); False only logs it.

    Raises:
        ValueError: naming the loss, the groups source, the dataset and the
            first differences.
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    def before_train(self, runner) -> None:
        self._check(runner, 'train_loop', 'training')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_loop', 'validation')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_loop', 'test')

    def _check(self, runner, loop_name: str, split: str) -> None:
        logger: MMLogger = MMLogger.get_current_instance()
        loop = getattr(runner, loop_name, None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is None:
            logger.warning(
                f'CheckGroupClassesHook: the {split} loop has no dataloader '
                'with a dataset; its classes cannot be checked against the '
                'BAGS groups')
            return
        classes = dataset_classes(dataset)
        dataset_name = type(dataset).__name__
        if classes is None:
            logger.warning(
                f'CheckGroupClassesHook: the {split} dataset ({dataset_name}) '
                "has no metainfo['classes']; its classes cannot be checked "
                'against the BAGS groups')
            return
        problems: List[str] = []
        for name, loss in group_softmax_losses(runner.model):
            if loss.layout is None:
                continue  # groups come from a checkpoint, checked on load
            if loss.group_class_names is None:
                reason = None if loss.num_classes == len(classes) else (
                    f'{loss.num_classes} classes in the groups but '
                    f'{len(classes)} in the dataset')
            else:
                reason = class_name_mismatch(
                    loss.group_class_names, classes,
                    any_order=loss.group_names_in_file_order)
            if reason:
                problems.append(f'{name} (groups from {loss.groups_source}): '
                                f'{reason}')
        if not problems:
            return
        message = (
            f'the BAGS groups do not match the {split} dataset '
            f'({dataset_name}, {len(classes)} classes): ' +
            '; '.join(problems) + '. Take the groups from the training set '
            "of the same dataset: groups=dict(ann_file='<train.json>', "
            'classes=<your classes>), or the built-in table of the same LVIS '
            'version.')
        if self.strict:
            raise ValueError(message)
        logger.warning(message)
