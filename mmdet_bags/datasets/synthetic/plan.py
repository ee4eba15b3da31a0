"""The plan of a generated set: what goes in every image, decided before
any drawing.

:func:`plan_long_tail_dataset` decides everything that is counted (which
classes go in which image, per-class instance and image counts, LVIS
frequencies, scaled bin edges, negative categories). It draws nothing and
runs in milliseconds, so the statistics of any preset can be checked
quickly.
"""
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from ...grouping.bins import bin_sizes
from .long_tail import (lvis_frequency, pick_long_tail_counts, rescale_counts,
                        scaled_bin_edges)
from .settings import ClassAppearance, LongTailSettings, class_catalogue

# Keys that separate the random streams of the stages of generation.
PLAN_STREAM, TRAIN_STREAM, VAL_STREAM = 0, 1, 2


@dataclass
class SplitPlan:
    """What goes in each image of one split.

    Attributes:
        name: ``'train'`` or ``'val'``.
        image_ids: image id of each image, shape ``(I,)``.
        category_ids: per image, the category id of each object in drawing
            order (later objects are drawn over earlier ones).
        neg_category_ids: per image, sorted categories verified absent.
    """
    name: str
    image_ids: List[int]
    category_ids: List[List[int]]
    neg_category_ids: List[List[int]]

    @property
    def folder(self) -> str:
        """COCO 2017 image folder the split's files go in."""
        return f'{self.name}2017'

    @property
    def stream(self) -> int:
        """Key of the split's random stream (each image draws from
        ``default_rng([seed, stream, image index])``)."""
        return TRAIN_STREAM if self.name == 'train' else VAL_STREAM

    def file_name(self, index: int) -> str:
        """``<id:012d>.jpg`` of the ``index``-th image."""
        return f'{self.image_ids[index]:012d}.jpg'

    def instance_counts(self, num_classes: int) -> np.ndarray:
        """Objects per category, shape ``(C,)`` (index = category id - 1)."""
        counts = np.zeros(num_classes, dtype=np.int64)
        for objects in self.category_ids:
            np.add.at(counts, np.asarray(objects, dtype=np.int64) - 1, 1)
        return counts

    def image_counts(self, num_classes: int) -> np.ndarray:
        """Images containing each category, shape ``(C,)``."""
        counts = np.zeros(num_classes, dtype=np.int64)
        for objects in self.category_ids:
            counts[np.unique(np.asarray(objects, dtype=np.int64)) - 1] += 1
        return counts


@dataclass
class LongTailPlan:
    """Everything counted about a dataset, decided before any drawing.

    Attributes:
        settings, seed: what the plan was made from.
        classes: appearance of category id ``k`` at index ``k - 1``.
        lvis_counts: LVIS v1 instance count each category was given the
            share of, shape ``(C,)`` by category id.
        train_instance_counts: planned training instances per category,
            shape ``(C,)`` by category id.
        scale_factor: generated training instances per LVIS instance of the
            picked classes.
        bin_edges: :func:`scaled_bin_edges` of ``scale_factor``.
        train, val: the splits.
    """
    settings: LongTailSettings
    seed: int
    classes: List[ClassAppearance]
    lvis_counts: np.ndarray
    train_instance_counts: np.ndarray
    scale_factor: float
    bin_edges: Tuple[int, ...]
    train: SplitPlan
    val: SplitPlan

    @property
    def class_names(self) -> List[str]:
        return [appearance.name for appearance in self.classes]

    @property
    def train_image_counts(self) -> np.ndarray:
        """Planned training images per category, shape ``(C,)``."""
        return self.train.image_counts(len(self.classes))

    @property
    def frequencies(self) -> List[str]:
        """Planned LVIS frequency of each category (by category id)."""
        return [lvis_frequency(count) for count in self.train_image_counts]

    @property
    def frequency_counts(self) -> Dict[str, int]:
        """Number of categories per LVIS frequency letter."""
        return {letter: self.frequencies.count(letter) for letter in 'rcf'}

    @property
    def group_sizes(self) -> Tuple[int, ...]:
        """Categories in each scaled bin (BAGS groups 1.. when none is
        empty), from the planned training counts."""
        return bin_sizes(self.train_instance_counts, self.bin_edges)


def _objects_per_image(rng: np.random.Generator, num_images: int,
                       settings: LongTailSettings) -> np.ndarray:
    low, high = settings.objects_per_image
    return rng.integers(low, high + 1, size=num_images)


def _deal(rng: np.random.Generator, instance_counts: np.ndarray,
          objects_per_image: np.ndarray) -> List[List[int]]:
    """Shuffle the multiset of category ids and cut it into images."""
    labels = np.repeat(np.arange(1, len(instance_counts) + 1),
                       instance_counts)
    rng.shuffle(labels)
    cuts = np.cumsum(objects_per_image)[:-1]
    return [chunk.tolist() for chunk in np.split(labels, cuts)]


def _negatives(rng: np.random.Generator, category_ids: List[List[int]],
               num_classes: int, num_negatives: int) -> List[List[int]]:
    negatives = []
    for present in category_ids:
        absent = np.setdiff1d(np.arange(1, num_classes + 1), present)
        if 0 <= num_negatives < len(absent):
            absent = np.sort(rng.choice(absent, num_negatives,
                                        replace=False))
        negatives.append(absent.tolist())
    return negatives


def _val_instance_counts(train_counts: np.ndarray, total: int,
                         minimum: int) -> np.ndarray:
    """``minimum`` per class plus the rest shared like the training set
    (largest remainders), shape ``(C,)``."""
    num_classes = len(train_counts)
    spare = total - minimum * num_classes
    share = spare * train_counts / train_counts.sum()
    extra = np.floor(share).astype(np.int64)
    by_remainder = np.argsort(-(share - extra), kind='stable')
    extra[by_remainder[:spare - int(extra.sum())]] += 1
    return minimum + extra


def plan_long_tail_dataset(settings: LongTailSettings,
                           seed: int = 0) -> LongTailPlan:
    """Decide the contents of every image without drawing anything.

    Steps: draw the number of objects of each image; rescale
    :func:`pick_long_tail_counts` to the total number of training objects;
    give the counts to the categories in a seeded random order; deal the
    shuffled objects into the images; pick negative categories. Validation
    counts are ``min_val_instances_per_class`` per class plus the rest of the
    validation objects shared like the training counts.

    Args:
        settings: sizes.
        seed: any non-negative int.

    Returns:
        LongTailPlan

    Raises:
        ValueError: when the images cannot hold one training object per
            class or the validation minimum of every class.
    """
    num_classes = settings.num_classes
    rng = np.random.default_rng([seed, PLAN_STREAM])
    train_objects = _objects_per_image(rng, settings.num_train_images,
                                       settings)
    val_objects = _objects_per_image(rng, settings.num_val_images, settings)
    num_train_instances = int(train_objects.sum())
    if num_train_instances < num_classes:
        raise ValueError(f'{settings.num_train_images} training images hold '
                         f'{num_train_instances} objects, fewer than the '
                         f'{num_classes} classes; add images or objects')
    needed_val = settings.min_val_instances_per_class * num_classes
    if int(val_objects.sum()) < needed_val:
        raise ValueError(f'{settings.num_val_images} validation images hold '
                         f'{int(val_objects.sum())} objects but '
                         f'{settings.min_val_instances_per_class} per class '
                         f'need {needed_val}; add validation images')

    lvis_by_rank = pick_long_tail_counts(num_classes)
    counts_by_rank, scale = rescale_counts(lvis_by_rank, num_train_instances)
    # Category of each rank: which class is frequent is up to the seed.
    category_of_rank = rng.permutation(num_classes)
    lvis_counts = np.zeros(num_classes, dtype=np.int64)
    train_counts = np.zeros(num_classes, dtype=np.int64)
    lvis_counts[category_of_rank] = lvis_by_rank
    train_counts[category_of_rank] = counts_by_rank

    train_ids = list(range(1, settings.num_train_images + 1))
    val_ids = list(range(settings.num_train_images + 1,
                         settings.num_train_images + settings.num_val_images
                         + 1))
    train_categories = _deal(rng, train_counts, train_objects)
    val_counts = _val_instance_counts(train_counts, int(val_objects.sum()),
                                      settings.min_val_instances_per_class)
    val_categories = _deal(rng, val_counts, val_objects)
    train = SplitPlan('train', train_ids, train_categories,
                      _negatives(rng, train_categories, num_classes,
                                 settings.num_neg_categories))
    val = SplitPlan('val', val_ids, val_categories,
                    _negatives(rng, val_categories, num_classes,
                               settings.num_neg_categories))
    return LongTailPlan(settings=settings, seed=seed,
                        classes=class_catalogue(num_classes),
                        lvis_counts=lvis_counts,
                        train_instance_counts=train_counts,
                        scale_factor=scale,
                        bin_edges=scaled_bin_edges(scale), train=train,
                        val=val)

