"""Statistics of a BAGS group layout: sizes, count ranges, LVIS r/c/f."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmdet_bags.grouping import (BUILTIN_TABLES, CategoryTable, GroupLayout,
                                 count_instances_in_annotation_file,
                                 load_builtin_table)

FREQUENCIES = ('r', 'c', 'f')


def load_category_table(source: str) -> CategoryTable:
    """A built-in name ('lvis_v1', 'lvis_v0.5') or a COCO/LVIS file path."""
    if source in BUILTIN_TABLES:
        return load_builtin_table(source)
    if not osp.exists(source):
        raise FileNotFoundError(
            f'{source!r} is neither a built-in table '
            f'({", ".join(BUILTIN_TABLES)}) nor an existing annotation file')
    return count_instances_in_annotation_file(source)


def summarize_groups(layout: GroupLayout,
                     frequencies: Optional[Sequence[str]] = None
                     ) -> List[Dict[str, object]]:
    """One row per foreground group.

    Returns:
        list[dict]: ``group``, ``num_classes``, ``count_range`` (the bin,
        ``[low, high)``, ``high`` None for the last), ``min_count`` and
        ``max_count`` (actual counts in the group), ``num_instances``, and
        with LVIS frequencies ``r``, ``c``, ``f`` (classes of each
        frequency in the group).
    """
    rows = []
    counts = layout.instance_counts
    for group in range(1, layout.num_groups):
        members = layout.classes_in_group(group).tolist()
        member_counts = [counts[label] for label in members]
        row: Dict[str, object] = dict(
            group=group,
            num_classes=len(members),
            count_range=layout.group_count_range(group),
            min_count=min(member_counts),
            max_count=max(member_counts),
            num_instances=sum(member_counts))
        if frequencies is not None:
            for letter in FREQUENCIES:
                row[letter] = sum(frequencies[label] == letter
                                  for label in members)
        rows.append(row)
    return rows


def format_group_table(layout: GroupLayout, rows: List[Dict[str, object]]
                       ) -> str:
    """A plain-text table of :func:`summarize_groups` rows."""
    has_frequencies = rows and 'r' in rows[0]
    header = ['group', 'bin [low, high)', 'classes', 'counts min..max',
              'instances']
    if has_frequencies:
        header += ['r', 'c', 'f']
    lines = [header]
    for row in rows:
        low, high = row['count_range']
        line = [
            str(row['group']), f'[{low}, {"inf" if high is None else high})',
            str(row['num_classes']), f'{row["min_count"]}..{row["max_count"]}',
            str(row['num_instances'])
        ]
        if has_frequencies:
            line += [str(row[letter]) for letter in FREQUENCIES]
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        '  '.join(cell.rjust(width) for cell, width in zip(line, widths))
        for line in lines
    ]
    text.insert(1, '  '.join('-' * width for width in widths))
    summary = (f'{layout.num_classes} classes, {layout.num_groups} groups '
               f'(group 0 = background), classifier width '
               f'{layout.num_logits} = C + 1 + G, bin_edges '
               f'{list(layout.bin_edges)}')
    return summary + '\n' + '\n'.join(text)


def plot_group_histogram(layout: GroupLayout, out_file: str,
                         frequencies: Optional[Sequence[str]] = None,
                         title: str = '') -> None:
    """Bar chart of classes per group (stacked by LVIS frequency if known)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = summarize_groups(layout, frequencies)
    labels = []
    for row in rows:
        low, high = row['count_range']
        labels.append(f'group {row["group"]}\n[{low}, '
                      f'{"inf" if high is None else high})')
    figure, axes = plt.subplots(figsize=(1.6 * len(rows) + 2, 4))
    positions = range(len(rows))
    if frequencies is not None:
        bottom = [0] * len(rows)
        for letter, color in zip(FREQUENCIES,
                                 ('tab:red', 'tab:orange', 'tab:blue')):
            heights = [row[letter] for row in rows]
            axes.bar(positions, heights, bottom=bottom, color=color,
                     label=f'LVIS {letter}')
            bottom = [b + h for b, h in zip(bottom, heights)]
        axes.legend()
    else:
        axes.bar(positions, [row['num_classes'] for row in rows],
                 color='tab:blue')
    for position, row in zip(positions, rows):
        axes.annotate(str(row['num_classes']), (position, row['num_classes']),
                      ha='center', va='bottom')
    axes.set_ylim(0, 1.15 * max(row['num_classes'] for row in rows))
    axes.set_xticks(list(positions))
    axes.set_xticklabels(labels)
    axes.set_xlabel('group (training-instance count bin)')
    axes.set_ylabel('classes')
    axes.set_title(title or f'BAGS groups: {layout.num_classes} classes')
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)
