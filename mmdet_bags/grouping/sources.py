"""Where per-class training-instance counts come from.

Three sources, each returning a :class:`CategoryTable` in label order:

* :func:`load_builtin_table`: the LVIS v1 / v0.5 training sets, shipped with
  the package (``'lvis_v1'``, ``'lvis_v0.5'``);
* :func:`count_instances_in_annotation_file`: any COCO- or LVIS-format file;
* an explicit list of counts (:func:`build_group_layout` takes it directly).

:func:`build_group_layout` turns any of the forms a config may use into a
:class:`~mmdet_bags.grouping.layout.GroupLayout`.
"""
import json
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .class_names import canonical_class_name, class_name_mismatch
from .json_stream import JsonStream
from .layout import DEFAULT_BIN_EDGES, GroupLayout

#: Built-in tables: name -> package data file.
BUILTIN_TABLES: Dict[str, str] = {
    'lvis_v1': 'lvis_v1_train_categories.json',
    'lvis_v0.5': 'lvis_v0.5_train_categories.json',
}

@dataclass(frozen=True)
class CategoryTable:
    """Categories of a training set in label order.

    Attributes:
        names: class names; label ``i`` is ``names[i]``.
        category_ids: the annotation file's category id of each label.
        instance_counts: training annotations of each label.
        frequencies: LVIS frequency letter ('r', 'c', 'f') of each label, or
            None when the source has none (COCO-format files).
        source: where the table came from, for messages.
    """
    names: Tuple[str, ...]
    category_ids: Tuple[int, ...]
    instance_counts: Tuple[int, ...]
    frequencies: Optional[Tuple[str, ...]]
    source: str

    def layout(self, bin_edges: Sequence[int] = DEFAULT_BIN_EDGES
               ) -> GroupLayout:
        """The BAGS layout of these counts."""
        return GroupLayout.from_counts(self.instance_counts, bin_edges)


def builtin_table_names() -> Tuple[str, ...]:
    return tuple(BUILTIN_TABLES)


def load_builtin_table(name: str) -> CategoryTable:
    """The shipped category table of a known dataset ('lvis_v1', 'lvis_v0.5').

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in BUILTIN_TABLES:
        raise ValueError(f'unknown built-in groups {name!r}; known: '
                         f'{", ".join(BUILTIN_TABLES)} (or give '
                         "dict(ann_file=...) or dict(instance_counts=[...]))")
    path = osp.join(osp.dirname(osp.dirname(__file__)), 'data',
                    BUILTIN_TABLES[name])
    with open(path) as file:
        categories = json.load(file)
    categories.sort(key=lambda category: category['id'])
    return CategoryTable(
        names=tuple(c['name'] for c in categories),
        category_ids=tuple(c['id'] for c in categories),
        instance_counts=tuple(c['instance_count'] for c in categories),
        frequencies=tuple(c['frequency'] for c in categories),
        source=f'built-in table {name!r}')


def check_class_names(table: CategoryTable,
                      classes: Sequence[str]) -> None:
    """Raise if ``classes`` (e.g. a dataset's ``METAINFO['classes']``) are not
    the table's classes in the same order (see
    :func:`~mmdet_bags.grouping.class_names.class_name_mismatch`)."""
    reason = class_name_mismatch(table.names, classes,
                                 expected_in=table.source)
    if reason is not None:
        raise ValueError(f'the dataset classes do not match {table.source}: '
                         f'{reason}')


def _read_categories_and_counts(ann_file: str) -> Tuple[list, Counter]:
    """Stream a COCO/LVIS file: its categories and annotations per category."""
    categories = None
    counts: Optional[Counter] = None
    with open(ann_file, encoding='utf-8') as file:
        stream = JsonStream(file, ann_file)
        try:
            if stream.peek() != '{':
                raise stream.error('expected a JSON object with '
                                   '"categories" and "annotations"')
            for key in stream.object_keys():
                if key == 'annotations' and stream.peek() == '[':
                    counts = Counter()
                    for annotation in stream.array_items():
                        if not isinstance(annotation, dict) or \
                                'category_id' not in annotation:
                            raise ValueError(
                                f'annotation file {ann_file!r}: every '
                                'annotation must be an object with a '
                                '"category_id"')
                        counts[annotation['category_id']] += 1
                elif key == 'images' and stream.peek() == '[':
                    for _ in stream.array_items():
                        pass  # not needed for counting; never kept
                else:
                    value = stream.value()
                    if key == 'categories':
                        categories = value
            if stream.peek() != '':
                raise stream.error('unexpected data after the JSON object')
        except UnicodeDecodeError as error:
            raise ValueError(f'annotation file {ann_file!r} is not UTF-8 '
                             f'text: {error}') from None
    if not isinstance(categories, list):
        raise ValueError(f'annotation file {ann_file!r} has no "categories" '
                         'list (COCO/LVIS format expected)')
    if counts is None:
        raise ValueError(f'annotation file {ann_file!r} has no "annotations" '
                         'list (COCO/LVIS format expected)')
    return categories, counts


def count_instances_in_annotation_file(
        ann_file: Union[str, os.PathLike],
        classes: Optional[Sequence[str]] = None) -> CategoryTable:
    """Count the annotations of each category in a COCO/LVIS-format file.

    Labels are assigned exactly as MMDetection's datasets do it: in the
    order the file lists its categories (``LVISV1Dataset`` labels
    ``lvis.get_cat_ids()``, ``CocoDataset`` labels
    ``coco.get_cat_ids(cat_names=classes)``, both in file order; real LVIS
    and COCO files list categories by ascending id). With ``classes`` (a
    dataset's ``metainfo['classes']``), only the categories with those names
    are kept, still in file order, as ``CocoDataset`` does. A category with
    no annotation gets count 0.

    The file is streamed: annotations are decoded one at a time and only
    their category ids are counted, so memory stays at a few megabytes
    whatever the file's size (LVIS v1 train: ~1 GB, 1.27 M annotations).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not JSON, lacks ``categories`` or
            ``annotations``, an annotation names an unknown category, or a
            requested class is not in the file.
    """
    ann_file = os.fspath(ann_file)
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file!r} not found')
    categories, counts = _read_categories_and_counts(ann_file)
    if not categories:
        raise ValueError(f'annotation file {ann_file!r} has an empty '
                         '"categories" list')
    if not all(isinstance(c, dict) and 'id' in c and 'name' in c
               for c in categories):
        raise ValueError(f'annotation file {ann_file!r}: every category must '
                         'be an object with "id" and "name"')
    known_ids = {c['id'] for c in categories}
    unknown = sorted(set(counts) - known_ids, key=str)
    if unknown:
        raise ValueError(
            f'annotation file {ann_file!r}: annotations use category ids '
            f'{unknown[:10]} that are not in its "categories" list '
            f'({sum(counts[i] for i in unknown)} annotations)')

    if classes is not None:
        by_name: Dict[str, dict] = {}
        for category in categories:
            by_name.setdefault(canonical_class_name(category['name']),
                               category)
        missing = [name for name in classes
                   if canonical_class_name(name) not in by_name]
        if missing:
            raise ValueError(
                f'annotation file {ann_file!r} has no category named '
                f'{missing[:5]} ({len(missing)} of the {len(classes)} '
                'dataset classes missing)')
        wanted = {canonical_class_name(name) for name in classes}
        categories = [c for c in categories
                      if canonical_class_name(c['name']) in wanted]

    frequencies: Optional[List[str]] = [c.get('frequency') for c in categories]
    if any(frequency is None for frequency in frequencies):
        frequencies = None
    return CategoryTable(
        names=tuple(c['name'] for c in categories),
        category_ids=tuple(c['id'] for c in categories),
        instance_counts=tuple(counts.get(c['id'], 0) for c in categories),
        frequencies=tuple(frequencies) if frequencies else None,
        source=f'annotation file {ann_file!r}')


GroupsSpec = Union[str, dict, GroupLayout, Sequence[int]]


@dataclass(frozen=True)
class ResolvedGroups:
    """A groups spec resolved: the layout plus what is known of its classes.

    Attributes:
        layout: the BAGS group layout.
        class_names: the class name of every label when the source names
            them (built-in table, annotation file), else None (explicit
            counts, a ready layout).
        source: where the groups came from, for messages.
        names_in_file_order: True when ``class_names`` follow an annotation
            file's category order (how ``CocoDataset`` assigns labels, which
            may differ from the order of its ``metainfo['classes']``).
    """
    layout: GroupLayout
    class_names: Optional[Tuple[str, ...]]
    source: str
    names_in_file_order: bool = False


def resolve_groups(groups: GroupsSpec,
                   bin_edges: Optional[Sequence[int]] = None,
                   classes: Optional[Sequence[str]] = None
                   ) -> ResolvedGroups:
    """:func:`build_group_layout` that also returns the class names.

    Same arguments and errors as :func:`build_group_layout`.
    """
    if isinstance(groups, GroupLayout):
        return ResolvedGroups(groups, None, 'a GroupLayout')
    edges = DEFAULT_BIN_EDGES if bin_edges is None else bin_edges
    if isinstance(groups, (str, os.PathLike)) and \
            os.fspath(groups).endswith('.json'):
        # A path alone: the same as dict(ann_file=path), e.g. from the
        # command line (--cfg-options ...groups=data/my/train.json).
        return resolve_groups(dict(ann_file=os.fspath(groups)), bin_edges,
                              classes)
    if isinstance(groups, str):
        table = load_builtin_table(groups)
        if classes is not None:
            check_class_names(table, classes)
        return ResolvedGroups(table.layout(edges), table.names, table.source)
    if isinstance(groups, dict):
        spec = dict(groups)
        if 'bin_edges' in spec:
            if bin_edges is not None and \
                    tuple(bin_edges) != tuple(spec['bin_edges']):
                raise ValueError(
                    f'bin_edges given twice and differently: {bin_edges!r} '
                    f'and groups.bin_edges={spec["bin_edges"]!r}')
            edges = spec.pop('bin_edges')
        spec_classes = spec.pop('classes', None)
        if spec_classes is not None:
            classes = spec_classes
        if set(spec) == {'ann_file'}:
            table = count_instances_in_annotation_file(spec['ann_file'],
                                                       classes)
            return ResolvedGroups(table.layout(edges), table.names,
                                  table.source, names_in_file_order=True)
        if set(spec) == {'instance_counts'}:
            return ResolvedGroups(
                GroupLayout.from_counts(spec['instance_counts'], edges), None,
                f'{len(spec["instance_counts"])} explicit instance counts')
    raise ValueError(
        'groups must be a built-in name '
        f'({", ".join(repr(n) for n in BUILTIN_TABLES)}), a .json '
        "annotation file, dict(ann_file='train.json', bin_edges=(10, 100, "
        "1000)), "
        'dict(instance_counts=[...], bin_edges=(10, 100, 1000)) or a '
        f'GroupLayout; got {groups!r}')


def build_group_layout(groups: GroupsSpec,
                       bin_edges: Optional[Sequence[int]] = None,
                       classes: Optional[Sequence[str]] = None
                       ) -> GroupLayout:
    """Resolve any form of ``groups`` a config may give into a layout.

    Args:
        groups: one of

            * ``'lvis_v1'`` or ``'lvis_v0.5'``: the shipped LVIS counts;
            * a path ending in ``.json``: same as ``dict(ann_file=path)``;
            * ``dict(ann_file=PATH, bin_edges=..., classes=...)``: counts
              from a COCO/LVIS-format training annotation file;
            * ``dict(instance_counts=[...], bin_edges=...)``: explicit counts
              in label order;
            * a :class:`GroupLayout` (returned as is).
        bin_edges: edges when ``groups`` does not carry its own; default
            ``(10, 100, 1000)``.
        classes: dataset class names; with a built-in table they are checked
            against it, with an annotation file they define the labels.

    Raises:
        ValueError: on an unknown form, with what is accepted.
    """
    return resolve_groups(groups, bin_edges, classes).layout
