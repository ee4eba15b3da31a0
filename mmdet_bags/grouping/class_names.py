"""Matching class names across LVIS files, MMDetection and datasets.

BAGS groups are matched to labels by position, so the class names behind
the groups (a built-in table, an annotation file) must be the dataset's
classes in its label order. :func:`class_name_mismatch` is the one place
that compares two class lists; building groups for a dataset
(:func:`~mmdet_bags.grouping.check_class_names`) and the training-time
check (:class:`~mmdet_bags.engine.CheckGroupClassesHook`) both ask it.
"""
from typing import Dict, List, Optional, Sequence

# MMDetection's LVIS class names differ from the LVIS files in one name
# ('stereo' is misspelled 'stero' in LVIS); both spellings mean one class.
_NAME_ALIASES: Dict[str, str] = {
    'speaker_(stero_equipment)': 'speaker_(stereo_equipment)',
}


def canonical_class_name(name: str) -> str:
    """The name used to match class names across LVIS files and MMDetection."""
    return _NAME_ALIASES.get(name, name)


def _first(names: List[str], limit: int = 5) -> str:
    return f'{names[:limit]}{" ..." if len(names) > limit else ""}'


def class_name_mismatch(expected: Sequence[str], given: Sequence[str],
                        any_order: bool = False,
                        expected_in: str = 'the groups',
                        given_in: str = 'the dataset') -> Optional[str]:
    """Why ``given`` are not the classes ``expected`` label by label, or None.

    Names are compared after :func:`canonical_class_name`.

    Args:
        expected: class names in label order (e.g. of the groups).
        given: class names in label order (e.g. a dataset's
            ``metainfo['classes']``).
        any_order: accept the same classes in another order (groups counted
            from an annotation file: labels then follow the file's category
            order, as in MMDetection's ``CocoDataset``).
        expected_in, given_in: what the two lists are, for the message.

    Returns:
        None when they match, else one sentence: the two numbers of classes,
        the names only one side has, or the first labels that differ.
    """
    want = [canonical_class_name(name) for name in expected]
    got = [canonical_class_name(name) for name in given]
    if want == got or any_order and sorted(want) == sorted(got):
        return None
    if len(want) != len(got):
        return (f'{len(want)} classes in {expected_in} but {len(got)} in '
                f'{given_in}')
    missing = [name for name in want if name not in set(got)]
    extra = [name for name in got if name not in set(want)]
    if missing or extra:
        return (f'classes in {expected_in} but not in {given_in}: '
                f'{_first(missing)}; in {given_in} but not in '
                f'{expected_in}: {_first(extra)}')
    differing = [label for label, (a, b) in enumerate(zip(want, got))
                 if a != b]
    shown = '; '.join(f'label {label} is {want[label]!r} in {expected_in} '
                      f'but {got[label]!r} in {given_in}'
                      for label in differing[:3])
    return (f'same classes in another order, {len(differing)} labels '
            f'differ: {shown}')
