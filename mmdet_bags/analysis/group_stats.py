"""Statistics of a BAGS group layout: sizes, count ranges, LVIS r/c/f."""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet_bags.grouping import (BUILTIN_TABLES, CategoryTable, GroupLayout,
                                 bin_labels, bin_sizes,
                                 count_instances_in_annotation_file,
                                 format_interval, load_builtin_table,
                                 validate_bin_edges)

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
        line = [
            str(row['group']), format_interval(*row['count_range']),
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
    labels = [f'group {row["group"]}\n' + format_interval(*row['count_range'])
              for row in rows]
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


# ------------------------------------------------------- choosing bin edges
def default_min_group_classes(num_classes: int) -> int:
    """The smallest group :func:`check_bin_edges` accepts: 5 % of the
    classes, at least 2 (a group of one class has no competition among
    classes: its softmax only separates that class from "others")."""
    return max(2, math.ceil(0.05 * num_classes))


def check_bin_edges(instance_counts: Sequence[int], bin_edges: Sequence[int],
                    min_group_classes: Optional[int] = None) -> List[str]:
    """What is wrong with ``bin_edges`` for these counts: one line per
    empty bin (its group is dropped) or group smaller than
    ``min_group_classes`` (default :func:`default_min_group_classes`).
    Empty list: the edges are fine."""
    if min_group_classes is None:
        min_group_classes = default_min_group_classes(len(instance_counts))
    edges = validate_bin_edges(bin_edges)
    problems = []
    for span, size in zip(bin_labels(edges),
                          bin_sizes(instance_counts, edges)):
        if size == 0:
            problems.append(f'bin {span} is empty (no class has that many '
                            'training instances): its group is dropped')
        elif size < min_group_classes:
            problems.append(f'bin {span} holds only {size} classes '
                            f'(< {min_group_classes})')
    return problems


def suggest_bin_edges(instance_counts: Sequence[int], num_bins: int = 4,
                      min_group_classes: Optional[int] = None
                      ) -> Tuple[int, ...]:
    """Bin edges that give groups of similar size for these counts.

    The rule: sort the classes by training-instance count and cut the sorted
    list into ``num_bins`` equal parts; each edge is the count of the first
    class of a part (so classes with equal counts stay together, and a bin
    is ``[edge_i, edge_i+1)`` as everywhere in BAGS). Edges not above the
    smallest count (or below 1) and repeated edges are dropped, so no bin
    is empty. If a group still has fewer than
    ``min_group_classes`` classes (see :func:`default_min_group_classes`),
    one bin fewer is tried, down to 2 bins (then the 2-bin edges are
    returned as they are). Like the paper's decade edges, each group then
    holds classes of similar frequency, but no group is empty or tiny.

    Raises:
        ValueError: fewer than 2 classes, or ``num_bins`` < 2.
    """
    counts = sorted(int(count) for count in instance_counts)
    if len(counts) < 2:
        raise ValueError('suggesting bin edges needs at least 2 classes, got '
                         f'{len(counts)}')
    if num_bins < 2:
        raise ValueError(f'num_bins must be at least 2, got {num_bins}')
    if min_group_classes is None:
        min_group_classes = default_min_group_classes(len(counts))
    edges: Tuple[int, ...] = ()
    for bins in range(num_bins, 1, -1):
        candidates = []
        for part in range(1, bins):
            # The first class of the part (integer ceiling division).
            edge = counts[-(-part * len(counts) // bins)]
            # An edge at or below the smallest count would leave the first
            # bin empty; a repeated edge an empty bin in between.
            if edge > max(counts[0], 0) and (not candidates or
                                             edge > candidates[-1]):
                candidates.append(edge)
        if not candidates:
            continue
        edges = tuple(candidates)
        if not check_bin_edges(counts, edges, min_group_classes):
            return edges
    if not edges:
        raise ValueError('no bin edges separate these counts: every class '
                         f'has the same count ({counts[0]})')
    return edges
