"""What each classifier row means in the BAGS codes whose checkpoints we read.

A BAGS classifier (``fc_cls``) has one row per logit; the codes agree on
what the logits are (per group: its classes plus one extra entry) but not on
their order. Here every row gets a *tag* saying what it means, so converting
a classifier is: tag the source's rows, tag ours, and pick, for each of our
rows, the source row with the same tag. Tags (labels are MMDetection 3.x
labels, ``0 .. C-1``):

* ``FOREGROUND``: group 0's "any object" entry;
* ``BACKGROUND``: group 0's background entry;
* ``('others', labels)``: the "others" entry of the group that holds exactly
  the classes ``labels`` (a sorted tuple), so groups are matched by their
  members, not by their position;
* ``('class', label)``: a class's own entry.

The three layouts (details in ``docs/method.md``, "Checkpoint layouts of the
original code and eqlv2"):

* ours (:class:`~mmdet_bags.grouping.GroupLayout`)::

      [fg, bg | others_1, classes of group 1 | others_2, ... ]

  empty bins dropped;
* the original code (FishYuLi/BalancedGroupSoftmax, ``tools/lvis_analyse.py``
  and ``GSBBoxHeadWith0``): group 0 is ``[bg, fg]``, then one group per bin in
  ascending count order, each ``[others, its classes]``; every bin is kept,
  also an empty one (a lone "others" row). Its files ``label2binlabel.pt``
  (``(G, C + 1)``: position of every mmdet v1 label in every group, 0 =
  "others"/background) and ``pred_slice_with0.pt`` (``(G, 2)``: first row
  and length of every group) describe the layout exactly;
* eqlv2's port (tztztztztz/eqlv2, ``mmdet/models/losses/group_softmax.py``):
  one group per bin first, each ``[others, its classes]``, every bin kept,
  and the background group **last** as ``[fg, bg]`` (its "others" entry is
  the foreground).

Inside a group both sources order the classes by category id, which is
ascending label order (as ours) for the LVIS files, whose categories are
listed by id.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from mmdet_bags.grouping.layout import GroupLayout, bin_of_count

Tag = Tuple
FOREGROUND: Tag = ('foreground', )
BACKGROUND: Tag = ('background', )


def others_tag(labels: Sequence[int]) -> Tag:
    """Tag of the "others" entry of the group holding exactly ``labels``."""
    return ('others', tuple(sorted(int(label) for label in labels)))


def class_tag(label: int) -> Tag:
    """Tag of the own entry of class ``label`` (MMDetection 3.x label)."""
    return ('class', int(label))


def describe_tag(tag: Tag) -> str:
    if tag[0] == 'others':
        members = tag[1]
        shown = ', '.join(str(label) for label in members[:4])
        more = ', ...' if len(members) > 4 else ''
        return (f'"others" of the group of {len(members)} classes '
                f'[{shown}{more}]')
    if tag[0] == 'class':
        return f'class {tag[1]}'
    return tag[0]


def _bin_members(instance_counts: Sequence[int],
                 bin_edges: Sequence[int]) -> List[List[int]]:
    """Labels of every bin (empty ones included), ascending."""
    members: List[List[int]] = [[] for _ in range(len(bin_edges) + 1)]
    for label, count in enumerate(instance_counts):
        members[bin_of_count(count, bin_edges)].append(label)
    return members


def _group_tags(members: Sequence[int]) -> List[Tag]:
    return [others_tag(members)] + [class_tag(label) for label in members]


def bags_column_tags(layout: GroupLayout) -> List[Tag]:
    """Tags of this package's ``layout.num_logits`` classifier rows."""
    tags: List[Optional[Tag]] = [None] * layout.num_logits
    tags[layout.foreground_column] = FOREGROUND
    tags[layout.background_column] = BACKGROUND
    for group in range(1, layout.num_groups):
        members = layout.classes_in_group(group).tolist()
        columns = layout.group_columns(group).tolist()
        for column, tag in zip(columns, _group_tags(members)):
            tags[column] = tag
    assert all(tag is not None for tag in tags)
    return tags


def original_column_tags(instance_counts: Sequence[int],
                         bin_edges: Sequence[int]) -> List[Tag]:
    """Tags of the original code's classifier rows, built as its
    ``tools/lvis_analyse.py`` builds its tables from the training counts.

    Width ``C + 1 + (len(bin_edges) + 1)``: LVIS v0.5 with the default edges
    gives 1236 rows (its mmdet v1 head has ``num_classes=1231`` with the
    background, plus 5 groups).
    """
    tags: List[Tag] = [BACKGROUND, FOREGROUND]
    for members in _bin_members(instance_counts, bin_edges):
        tags.extend(_group_tags(members))
    return tags


def eqlv2_column_tags(instance_counts: Sequence[int],
                      bin_edges: Sequence[int]) -> List[Tag]:
    """Tags of eqlv2's ``GroupSoftmax`` classifier rows (``bin_split`` =
    ``bin_edges``). LVIS v1 with the default edges gives 1209 rows."""
    tags: List[Tag] = []
    for members in _bin_members(instance_counts, bin_edges):
        tags.extend(_group_tags(members))
    return tags + [FOREGROUND, BACKGROUND]


def original_column_tags_from_tables(label2binlabel: torch.Tensor,
                                     pred_slice: torch.Tensor,
                                     what: str = 'the original\'s tables'
                                     ) -> List[Tag]:
    """Tags of the original code's classifier rows read from its own files.

    Args:
        label2binlabel (Tensor): ``(G, C + 1)`` integers: for mmdet v1 label
            ``l`` (0 = background) its position inside group ``g``; in group
            0 background and foreground, in groups ``g >= 1`` the class's
            position ``>= 1`` or 0 ("others").
        pred_slice (Tensor): ``(G, 2)``: first row and number of rows of each
            group in ``fc_cls``.
        what (str): names the files in error messages.

    Raises:
        ValueError: when the tables are malformed or inconsistent.
    """
    if label2binlabel.dim() != 2 or pred_slice.dim() != 2 or \
            pred_slice.size(1) != 2 or \
            pred_slice.size(0) != label2binlabel.size(0):
        raise ValueError(
            f'{what}: expected label2binlabel of shape (G, C + 1) and '
            f'pred_slice of shape (G, 2) with the same G, got '
            f'{tuple(label2binlabel.shape)} and {tuple(pred_slice.shape)}')
    label2binlabel = label2binlabel.long()
    pred_slice = pred_slice.long()
    width = int((pred_slice[:, 0] + pred_slice[:, 1]).max())
    tags: List[Optional[Tag]] = [None] * width
    start_of_next = 0
    for group, (start, length) in enumerate(pred_slice.tolist()):
        if start != start_of_next or length < 1:
            raise ValueError(
                f'{what}: pred_slice row {group} is (start={start}, '
                f'length={length}); groups must be contiguous, in order, '
                f'each with at least one row (expected start {start_of_next})')
        start_of_next = start + length
        positions = label2binlabel[group]
        if group == 0:
            background_position = int(positions[0])
            foreground_positions = set(positions[1:].tolist())
            if length != 2 or len(foreground_positions) != 1 or \
                    {background_position} | foreground_positions != {0, 1}:
                raise ValueError(
                    f'{what}: group 0 must have two rows, background and '
                    'foreground, with every foreground label at one '
                    f'position; got length {length}, background at '
                    f'{background_position}, foreground at '
                    f'{sorted(foreground_positions)}')
            tags[start + background_position] = BACKGROUND
            tags[start + foreground_positions.pop()] = FOREGROUND
            continue
        if int(positions[0]) != 0:
            raise ValueError(f'{what}: background (label 0) must be "others" '
                             f'(position 0) in group {group}')
        in_group = torch.nonzero(positions > 0).flatten()
        local = positions[in_group]
        if sorted(local.tolist()) != list(range(1, length)):
            raise ValueError(
                f'{what}: group {group} has {length} rows but its classes '
                f'sit at positions {sorted(local.tolist())[:8]}...; expected '
                f'1..{length - 1}')
        labels_v3 = (in_group - 1).tolist()  # mmdet v1 label l -> l - 1
        tags[start] = others_tag(labels_v3)
        for label, position in zip(labels_v3, local.tolist()):
            tags[start + position] = class_tag(label)
    assert all(tag is not None for tag in tags)
    claimed = torch.zeros(label2binlabel.size(1), dtype=torch.long)
    claimed[1:] = (label2binlabel[1:, 1:] > 0).sum(dim=0)
    unclaimed = torch.nonzero(claimed[1:] != 1).flatten()
    if len(unclaimed):
        raise ValueError(
            f'{what}: every foreground label must be in exactly one group; '
            f'mmdet v1 labels {(unclaimed + 1).tolist()[:8]} are in '
            f'{claimed[unclaimed + 1].tolist()[:8]} groups')
    return tags


def rows_for_layout(source_tags: Sequence[Tag], layout: GroupLayout,
                    source: str) -> torch.Tensor:
    """Which source row becomes each of our classifier rows.

    Source rows that are not used must be the "others" entry of an empty
    group (a softmax over that single row is 1 and scores nothing), which
    our layout drops.

    Args:
        source_tags: tags of the source's rows.
        layout: our group layout.
        source (str): names the source in errors.

    Returns:
        LongTensor: ``(layout.num_logits,)`` source row of each of our rows.

    Raises:
        ValueError: when a row of ours has no source row (the groups
            differ), naming the first few.
    """
    row_of_tag: Dict[Tag, int] = {}
    for row, tag in enumerate(source_tags):
        if tag in row_of_tag:
            raise ValueError(f'{source}: two rows ({row_of_tag[tag]} and '
                             f'{row}) both hold {describe_tag(tag)}')
        row_of_tag[tag] = row
    our_tags = bags_column_tags(layout)
    missing = [tag for tag in our_tags if tag not in row_of_tag]
    if missing:
        shown = '; '.join(describe_tag(tag) for tag in missing[:3])
        raise ValueError(
            f'{source} does not group the classes as {layout.describe()}: '
            f'{len(missing)} of our classifier rows have no counterpart '
            f'({shown}). Pass the groups and bin edges the checkpoint was '
            'trained with.')
    rows = [row_of_tag[tag] for tag in our_tags]
    unused = set(range(len(source_tags))) - set(rows)
    not_empty_others = [
        row for row in sorted(unused)
        if not (source_tags[row][0] == 'others' and not source_tags[row][1])
    ]
    if not_empty_others:
        held = '; '.join(
            describe_tag(source_tags[row]) for row in not_empty_others[:3])
        raise ValueError(f'{source}: rows {not_empty_others[:5]} would be '
                         f'dropped but hold {held}')
    return torch.tensor(rows, dtype=torch.long)
