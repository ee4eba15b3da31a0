"""Build a COCO-LT-style long-tail training subset from a COCO-format file.

COCO-LT, on which the BAGS paper also reports results, is a long-tailed
resampling of COCO train2017, evaluated on COCO val2017 in four bins of
training-instance counts: ``[1, 20)``,
``[20, 400)``, ``[400, 8000)``, ``[8000, inf)``. This module makes such a
subset reproducibly from any COCO-format file. It is **not** the published
COCO-LT file (that was not available to verify against): it follows the
documented procedure below, so the same input, parameters and seed always
give the same output.

Procedure (:func:`build_coco_lt`):

1. Rank the categories by their instance count in the source file,
   largest first (ties by category id).
2. Give rank ``r`` of ``K`` a target count on a straight line in log space
   from ``head_count`` (rank 0) down to ``tail_count`` (rank ``K - 1``):
   ``round(head * (tail / head) ** (r / (K - 1)))``, never more than the
   category has. With COCO's 80 classes, the defaults (the largest
   category's own count, down to 1) spread the classes over all four
   COCO-LT bins.
3. Select whole images, category by category from the smallest target to
   the largest. For a category, its not yet selected images are visited in
   a seeded random order; an image is taken while the category is below
   its target, unless it would push an already handled category (a smaller
   target) above its target, or overshoot this category's own target when
   the category already has an instance. Images bring all their
   annotations: dropping some would turn annotated objects into background
   and teach the detector to ignore them.
4. Every category keeps its id and name, even if nothing was selected.

Counts therefore land at or below the targets, except where a category's
images all carry more instances than its remaining target (then one image
is still taken, so every category with source images has at least one
instance) and for categories brought in by images chosen for rarer ones.
"""
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..grouping.bins import bin_labels, bin_sizes

#: COCO-LT's bins of training instances: [1, 20), [20, 400), [400, 8000),
#: [8000, inf) (as BAGS bin edges; the first bin starts at 0 in BAGS).
COCO_LT_BIN_EDGES = (20, 400, 8000)


def long_tail_targets(source_counts: Dict[int, int],
                      head_count: Optional[int] = None,
                      tail_count: int = 1) -> Dict[int, int]:
    """Target instance count of every category (step 2 of the module doc).

    Args:
        source_counts: category id -> instances in the source file.
        head_count: target of the most frequent category; default its
            source count.
        tail_count: target of the least frequent category.

    Raises:
        ValueError: fewer than 2 categories, or counts out of order
            (``1 <= tail_count <= head_count``).
    """
    if len(source_counts) < 2:
        raise ValueError('a long tail needs at least 2 categories, got '
                         f'{len(source_counts)}')
    ranked = sorted(source_counts, key=lambda c: (-source_counts[c], c))
    head = source_counts[ranked[0]] if head_count is None else head_count
    if not 1 <= tail_count <= head:
        raise ValueError(f'need 1 <= tail_count ({tail_count}) <= head_count '
                         f'({head})')
    last = len(ranked) - 1
    targets = {}
    for rank, category_id in enumerate(ranked):
        wanted = int(round(head * (tail_count / head)**(rank / last)))
        targets[category_id] = min(max(wanted, tail_count),
                                   source_counts[category_id])
    return targets


def build_coco_lt(coco: Dict[str, Any], seed: int = 0,
                  head_count: Optional[int] = None, tail_count: int = 1,
                  progress=None) -> Dict[str, Any]:
    """A COCO-LT-style subset of a COCO-format dict (see the module doc).

    Args:
        coco: a COCO instance file's content (``images``, ``annotations``,
            ``categories``).
        seed: seeds the image order of step 3.
        head_count, tail_count: see :func:`long_tail_targets`.
        progress: optional callable ``(done, total)`` called per category.

    Returns:
        dict: a COCO instance dict (``info`` records the procedure, seed,
        parameters and per-category target/actual counts; ``licenses`` and
        the source's other top-level keys are kept).

    Raises:
        ValueError: missing keys, or annotations of unknown images or
            categories.
    """
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            raise ValueError(f'a COCO instance file needs a "{key}" list')
    category_ids = [category['id'] for category in coco['categories']]
    known_images = {image['id'] for image in coco['images']}
    per_image: Dict[Any, Counter] = defaultdict(Counter)
    source_counts = Counter({category_id: 0 for category_id in category_ids})
    for annotation in coco['annotations']:
        if annotation['category_id'] not in source_counts:
            raise ValueError(f'annotation {annotation.get("id")} has category '
                             f'{annotation["category_id"]}, not in '
                             '"categories"')
        if annotation['image_id'] not in known_images:
            raise ValueError(f'annotation {annotation.get("id")} refers to '
                             f'image {annotation["image_id"]}, not in '
                             '"images"')
        per_image[annotation['image_id']][annotation['category_id']] += 1
        source_counts[annotation['category_id']] += 1
    targets = long_tail_targets(dict(source_counts), head_count, tail_count)

    images_of: Dict[int, List[Any]] = defaultdict(list)
    for image_id in sorted(per_image, key=str):
        for category_id in per_image[image_id]:
            images_of[category_id].append(image_id)

    rng = np.random.default_rng(seed)
    selected = set()
    counts: Counter = Counter()
    handled: List[int] = []
    order = sorted(category_ids, key=lambda c: (targets[c], c))
    for done, category_id in enumerate(order):
        target = targets[category_id]
        candidates = images_of[category_id]
        for index in rng.permutation(len(candidates)):
            if counts[category_id] >= target:
                break
            image_id = candidates[index]
            if image_id in selected:
                continue
            objects = per_image[image_id]
            if any(counts[other] + objects[other] > targets[other]
                   for other in handled if other in objects):
                continue
            if counts[category_id] > 0 and \
                    counts[category_id] + objects[category_id] > target:
                continue
            selected.add(image_id)
            counts.update(objects)
        handled.append(category_id)
        if progress is not None:
            progress(done + 1, len(order))

    result = {key: value for key, value in coco.items()
              if key not in ('images', 'annotations', 'info')}
    result['images'] = [image for image in coco['images']
                        if image['id'] in selected]
    result['annotations'] = [annotation for annotation in coco['annotations']
                             if annotation['image_id'] in selected]
    result['info'] = dict(
        coco.get('info') or {},
        coco_lt=dict(
            procedure='mmdet_bags.datasets.coco_lt.build_coco_lt: targets '
            'log-linear in category rank from head_count to tail_count; '
            'whole images selected per category from the smallest target '
            'up, in seeded random order, not exceeding the targets of '
            'categories already handled',
            seed=seed, head_count=head_count, tail_count=tail_count,
            source_images=len(coco['images']),
            source_annotations=len(coco['annotations']),
            images=len(result['images']),
            annotations=len(result['annotations']),
            categories=[dict(id=category_id,
                             source=source_counts[category_id],
                             target=targets[category_id],
                             selected=counts[category_id])
                        for category_id in category_ids]))
    return result


def format_summary(result: Dict[str, Any],
                   bin_edges: Sequence[int] = COCO_LT_BIN_EDGES) -> str:
    """A few lines on a :func:`build_coco_lt` result."""
    info = result['info']['coco_lt']
    selected = [c['selected'] for c in info['categories']]
    spans = bin_labels(bin_edges)
    sizes = bin_sizes(selected, bin_edges)
    present = [count for count in selected if count]
    return '\n'.join([
        f"images {info['images']} of {info['source_images']}, annotations "
        f"{info['annotations']} of {info['source_annotations']}",
        f'instances per category: min {min(selected)}, median '
        f'{int(np.median(selected))}, max {max(selected)}; '
        f'{sum(1 for c in selected if c == 0)} categories without instances',
        'categories per bin: ' + ', '.join(
            f'{span}: {size}' for span, size in zip(spans, sizes)),
        f'imbalance (max / min non-zero count): '
        f'{max(present) / min(present):.0f}'
        if present else 'no instances selected',
    ])
