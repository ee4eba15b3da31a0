"""Deterministic generator of a long-tail detection set in LVIS v1 format.

Every class is a visual combination ``(colour, texture, shape)``, e.g.
``red_striped_circle``, so a detector can learn it from pixels alone. The
number of training instances per class follows the long tail of LVIS v1: the
LVIS v1 training instance counts are sorted in descending order, ``C`` of them
are taken evenly spaced in rank and rescaled to the requested number of
training instances. The same scale factor maps the BAGS default bin edges
``(10, 100, 1000)`` to the generated set, so the BAGS groups of the generated
set mirror those of LVIS.

Generation has two stages:

* :func:`plan_long_tail_dataset` decides everything that is counted (which
  classes go in which image, per-class instance and image counts, LVIS
  frequencies, scaled bin edges, negative categories). It draws nothing and
  runs in milliseconds, so the statistics of any preset can be checked
  quickly.
* :func:`render_image` draws one image of a plan: background clutter, objects
  (later ones over earlier ones), pixel-exact visible masks.

:func:`generate_longtail_lvis` runs both and writes::

    <out_dir>/annotations/lvis_v1_train.json
    <out_dir>/annotations/lvis_v1_val.json
    <out_dir>/train2017/000000000001.jpg ...
    <out_dir>/val2017/000000000601.jpg ...

``<out_dir>`` plays the role of MMDetection's ``data_root`` for LVIS v1
(``data_prefix=dict(img='')``): ``LVISV1Dataset`` takes each image's path from
its ``coco_url`` (``http://images.cocodataset.org/train2017/<id>.jpg`` ->
``train2017/<id>.jpg``). Give the dataset ``metainfo=dict(classes=...)`` with
the generated class names (returned by :func:`generate_longtail_lvis`), since
``LVISV1Dataset.METAINFO`` lists the 1203 real LVIS classes.

Conventions:

* category ids are ``1..C`` in alphabetical order of the class names (label
  ``i`` of MMDetection is category id ``i + 1``); which class is frequent and
  which rare is decided by the seed, independently of the id;
* masks are compressed RLE (pycocotools), exact: ``area`` is the pixel count
  of the visible mask and ``bbox`` is its exact bounding box in COCO
  ``[x, y, w, h]`` pixel units (``w = x_max - x_min + 1``). RLE needs
  ``LoadAnnotations(poly2mask=True)``, MMDetection's default;
* LVIS frequencies use the LVIS definition on *training image* counts:
  ``'r'`` 1-10 images, ``'c'`` 11-100, ``'f'`` more than 100. Both split files
  carry the training-split ``image_count``, ``instance_count`` and
  ``frequency``, as LVIS does;
* every image is exhaustively annotated (``not_exhaustive_category_ids`` is
  empty unless an instance had to be dropped, see :func:`render_image`), and
  ``neg_category_ids`` lists a few categories verified absent from it.

The output is a function of the settings and the seed only: the same seed
gives byte-identical JSON and identical image files (for a fixed numpy and
OpenCV installation; numpy does not promise identical random streams across
its versions).

This module imports no model code (only numpy, OpenCV, pycocotools, tqdm).
"""
import dataclasses
import itertools
import json
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from tqdm import tqdm

from ..grouping.bins import DEFAULT_BIN_EDGES, bin_sizes

#: Version of what this module writes; part of the settings that decide
#: whether an existing output can be reused.
FORMAT_VERSION = 1

#: BAGS default instance-count bin edges, as in LVIS.
LVIS_BIN_EDGES: Tuple[int, ...] = DEFAULT_BIN_EDGES

#: LVIS frequency classes by number of training images containing the class:
#: 'r' for 1-10 images, 'c' for 11-100, 'f' for more than 100.
RARE_MAX_IMAGES = 10
COMMON_MAX_IMAGES = 100

SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'ellipse', 'star',
                           'cross', 'hexagon', 'ring', 'diamond', 'crescent')
#: Colour names and their BGR values (OpenCV channel order).
COLOURS: Dict[str, Tuple[int, int, int]] = {
    'red': (40, 40, 220),
    'orange': (20, 140, 255),
    'yellow': (40, 225, 235),
    'green': (50, 180, 40),
    'cyan': (220, 210, 40),
    'blue': (220, 70, 40),
    'magenta': (210, 50, 210),
    'white': (245, 245, 245),
}
TEXTURES: Tuple[str, ...] = ('solid', 'striped', 'dotted', 'checkered')

#: Largest number of classes: every (colour, texture, shape) combination.
MAX_CLASSES = len(SHAPES) * len(COLOURS) * len(TEXTURES)

_LVIS_V1_TABLE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
    'lvis_v1_train_categories.json')

# Fixed seed of the class catalogue: the class names depend on the number of
# classes only, never on the user's seed.
_CATALOGUE_SEED = 20200614
# Keys that separate the random streams of the stages of generation.
_PLAN_STREAM, _TRAIN_STREAM, _VAL_STREAM = 0, 1, 2
_URL_HOST = 'http://images.cocodataset.org'
TRAIN_JSON = 'lvis_v1_train.json'
VAL_JSON = 'lvis_v1_val.json'


# --------------------------------------------------------------- settings
@dataclass(frozen=True)
class LongTailSettings:
    """Sizes and knobs of a generated dataset (everything but the seed).

    Attributes:
        num_classes: ``C``, at most :data:`MAX_CLASSES`.
        num_train_images: training images.
        num_val_images: validation images.
        image_size: side of the square images, in pixels.
        objects_per_image: inclusive ``(min, max)`` number of objects placed
            in an image, drawn uniformly per image. The number of training
            instances is the sum over the training images.
        min_val_instances_per_class: every class gets at least this many
            validation instances whatever its training frequency; the rest
            of the validation objects follow the training distribution.
        num_neg_categories: categories listed in each image's
            ``neg_category_ids`` (drawn among those absent from the image);
            ``-1`` lists every absent category.
        object_size: inclusive ``(min, max)`` object size as a fraction of
            ``image_size`` (side of the square the shape is drawn in).
        min_visible_fraction: placement keeps at least this fraction of
            every object's silhouette visible (not covered by later objects
            and inside the image).
        drop_visible_fraction: an instance whose visible fraction ends below
            this is "almost fully occluded" and dropped (only happens when no
            valid placement was found, see :func:`render_image`).
        jpeg_quality: JPEG quality of the saved images.
    """
    num_classes: int = 32
    num_train_images: int = 600
    num_val_images: int = 150
    image_size: int = 128
    objects_per_image: Tuple[int, int] = (6, 14)
    min_val_instances_per_class: int = 8
    num_neg_categories: int = 8
    object_size: Tuple[float, float] = (0.11, 0.3)
    min_visible_fraction: float = 0.5
    drop_visible_fraction: float = 0.2
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        # Accept lists (e.g. from argparse or JSON) for the pairs.
        object.__setattr__(self, 'objects_per_image',
                           tuple(int(n) for n in self.objects_per_image))
        object.__setattr__(self, 'object_size',
                           tuple(float(f) for f in self.object_size))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first inconsistent setting."""
        if not 1 <= self.num_classes <= MAX_CLASSES:
            raise ValueError(f'num_classes must be in 1..{MAX_CLASSES} (one '
                             'class per colour/texture/shape combination), '
                             f'got {self.num_classes}')
        if self.num_train_images < 1 or self.num_val_images < 1:
            raise ValueError('num_train_images and num_val_images must be '
                             'positive')
        if self.image_size < 32:
            raise ValueError(f'image_size must be >= 32, got '
                             f'{self.image_size}')
        low, high = self.objects_per_image
        if len(self.objects_per_image) != 2 or not 1 <= low <= high:
            raise ValueError('objects_per_image must be (min, max) with '
                             f'1 <= min <= max, got {self.objects_per_image}')
        small, large = self.object_size
        if len(self.object_size) != 2 or not 0 < small <= large <= 0.9:
            raise ValueError('object_size must be (min, max) fractions of '
                             'the image side with 0 < min <= max <= 0.9, got '
                             f'{self.object_size}')
        if small * self.image_size < 8:
            raise ValueError('the smallest objects would be under 8 px; '
                             'raise object_size[0] or image_size')
        if self.min_val_instances_per_class < 1:
            raise ValueError('min_val_instances_per_class must be >= 1')
        if self.num_neg_categories < -1:
            raise ValueError('num_neg_categories must be >= 0, or -1 for '
                             'every absent category')
        if not 0 <= self.drop_visible_fraction < \
                self.min_visible_fraction <= 1:
            raise ValueError('need 0 <= drop_visible_fraction < '
                             'min_visible_fraction <= 1')
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError('jpeg_quality must be in 1..100')

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict (pairs as lists)."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}


#: Named sizes. 'tiny' generates in seconds; 'small' (a few minutes) is for
#: benchmarks. Both populate all four scaled BAGS bins and all of r/c/f
#: (checked by the tests on their plans).
PRESETS: Dict[str, LongTailSettings] = {
    'tiny': LongTailSettings(),
    'small': LongTailSettings(
        num_classes=120, num_train_images=2400, num_val_images=500,
        image_size=160, objects_per_image=(6, 14),
        min_val_instances_per_class=10, num_neg_categories=12),
}


def resolve_settings(preset: str = 'tiny', **overrides) -> LongTailSettings:
    """A preset with some settings replaced.

    Args:
        preset: a key of :data:`PRESETS`.
        **overrides: fields of :class:`LongTailSettings`; ``None`` values
            are ignored (convenient for unset command-line options).

    Raises:
        ValueError: unknown preset or setting, or inconsistent values.
    """
    if preset not in PRESETS:
        raise ValueError(f'unknown preset {preset!r}; known: '
                         f'{", ".join(PRESETS)}')
    fields = {field.name for field in dataclasses.fields(LongTailSettings)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f'unknown setting(s) {unknown}; known: '
                         f'{sorted(fields)}')
    overrides = {key: value for key, value in overrides.items()
                 if value is not None}
    return dataclasses.replace(PRESETS[preset], **overrides)


# ------------------------------------------------------------- the classes
@dataclass(frozen=True)
class ClassAppearance:
    """What a class looks like; the class name is derived from it."""
    colour: str
    texture: str
    shape: str

    @property
    def name(self) -> str:
        """e.g. ``'red_striped_circle'``."""
        return f'{self.colour}_{self.texture}_{self.shape}'

    @property
    def definition(self) -> str:
        """LVIS-style ``def`` text."""
        texture = {'solid': 'solid', 'striped': 'striped with dark stripes',
                   'dotted': 'covered with dark dots',
                   'checkered': 'with a dark checkered pattern'}[self.texture]
        return f'a {self.colour} {self.shape}, {texture}'


def class_catalogue(num_classes: int) -> List[ClassAppearance]:
    """The ``num_classes`` classes, in category-id order (alphabetical).

    The classes depend only on ``num_classes``: combinations are taken in a
    fixed pseudo-random order, each time the one whose colour, texture and
    shape have been used least, so small sets still use every attribute.

    Returns:
        list[ClassAppearance]: ``C`` distinct appearances sorted by name;
        category id ``k`` is element ``k - 1``.
    """
    if not 1 <= num_classes <= MAX_CLASSES:
        raise ValueError(f'num_classes must be in 1..{MAX_CLASSES}')
    combinations = list(itertools.product(COLOURS, TEXTURES, SHAPES))
    order = np.random.default_rng(_CATALOGUE_SEED).permutation(
        len(combinations))
    remaining = [combinations[index] for index in order]
    usage: Dict[str, int] = {}
    chosen = []
    for _ in range(num_classes):
        # First (in the fixed order) of the least-used combinations.
        best = min(range(len(remaining)),
                   key=lambda index: sum(usage.get(attribute, 0)
                                         for attribute in remaining[index]))
        combination = remaining.pop(best)
        for attribute in combination:
            usage[attribute] = usage.get(attribute, 0) + 1
        chosen.append(ClassAppearance(*combination))
    return sorted(chosen, key=lambda appearance: appearance.name)


# ------------------------------------------------------------ the long tail
def lvis_v1_instance_counts() -> np.ndarray:
    """LVIS v1 training instance counts of its 1203 classes, descending.

    Returns:
        np.ndarray: int64, shape ``(1203,)``.
    """
    with open(_LVIS_V1_TABLE) as file:
        categories = json.load(file)
    return np.array(sorted((category['instance_count']
                            for category in categories), reverse=True),
                    dtype=np.int64)


def pick_long_tail_counts(num_classes: int,
                          source_counts: Optional[Sequence[int]] = None
                          ) -> np.ndarray:
    """``num_classes`` counts evenly spaced in rank of a long tail.

    The ranks ``0..N-1`` of the descending source counts are cut into
    ``num_classes`` equal segments and the middle rank of each is taken, so
    the picked counts keep the shape of the whole tail (taking rank 0 itself
    would give one class most of the data: the largest LVIS class has 74
    times the median-rank count of the 32 picked).

    Args:
        num_classes: ``C <= N``.
        source_counts: counts in any order; LVIS v1 training instance counts
            by default.

    Returns:
        np.ndarray: int64, shape ``(C,)``, non-increasing.
    """
    counts = (lvis_v1_instance_counts() if source_counts is None else
              np.sort(np.asarray(source_counts, dtype=np.int64))[::-1])
    if not 1 <= num_classes <= len(counts):
        raise ValueError(f'cannot pick {num_classes} of {len(counts)} '
                         'source counts')
    ranks = ((np.arange(num_classes) + 0.5) * len(counts) /
             num_classes).astype(np.int64)
    return counts[ranks]


def rescale_counts(source_counts: Sequence[int],
                   total: int) -> Tuple[np.ndarray, float]:
    """Scale counts to sum exactly to ``total``, each at least 1.

    Counts are multiplied by ``scale = total / sum(source_counts)``, rounded
    down, raised to 1, and the difference to ``total`` is settled by the
    largest remainders (or taken from the largest counts); the result is
    sorted like the input, so a non-increasing input stays non-increasing.

    Args:
        source_counts: non-increasing positive counts, shape ``(C,)``.
        total: wanted sum, ``>= C``.

    Returns:
        tuple: int64 counts of shape ``(C,)`` summing to ``total``, and the
        scale factor.
    """
    source = np.asarray(source_counts, dtype=np.float64)
    if total < len(source):
        raise ValueError(f'{total} instances cannot give each of '
                         f'{len(source)} classes one instance')
    if np.any(np.diff(source) > 0) or np.any(source <= 0):
        raise ValueError('source_counts must be positive and non-increasing')
    scale = total / source.sum()
    exact = source * scale
    counts = np.maximum(np.floor(exact).astype(np.int64), 1)
    missing = total - int(counts.sum())
    if missing > 0:
        # Stable sort: among equal remainders the higher-ranked class first.
        by_remainder = np.argsort(-(exact - np.floor(exact)), kind='stable')
        counts[by_remainder[:missing]] += 1
    while missing < 0:
        # Raising counts to 1 overshot: take from the largest counts.
        counts[int(np.argmax(counts))] -= 1
        missing += 1
    return np.sort(counts)[::-1].copy(), float(scale)


def scaled_bin_edges(scale_factor: float,
                     base_edges: Sequence[int] = LVIS_BIN_EDGES
                     ) -> Tuple[int, ...]:
    """BAGS bin edges for a dataset scaled by ``scale_factor`` from LVIS.

    Each edge is multiplied by the factor and rounded half up, then raised to
    at least 1 and to one more than the previous edge, so the result is a
    valid ``bin_edges`` argument (positive, strictly increasing).

    Args:
        scale_factor: generated instances per LVIS instance.
        base_edges: edges for the unscaled data; ``(10, 100, 1000)``.

    Returns:
        tuple[int]: as many edges as ``base_edges``.
    """
    if not scale_factor > 0:
        raise ValueError(f'scale_factor must be positive, got {scale_factor}')
    edges: List[int] = []
    for edge in base_edges:
        scaled = max(1, int(math.floor(edge * scale_factor + 0.5)))
        if edges:
            scaled = max(scaled, edges[-1] + 1)
        edges.append(scaled)
    return tuple(edges)


def lvis_frequency(image_count: int) -> str:
    """LVIS frequency letter of a class in ``image_count`` training images:
    ``'r'`` (1-10), ``'c'`` (11-100) or ``'f'`` (more than 100)."""
    if image_count <= RARE_MAX_IMAGES:
        return 'r'
    if image_count <= COMMON_MAX_IMAGES:
        return 'c'
    return 'f'


# ----------------------------------------------------------------- planning
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
    rng = np.random.default_rng([seed, _PLAN_STREAM])
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


# ------------------------------------------------------------------ drawing
def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)],
                         [math.sin(angle), math.cos(angle)]])
    return points @ rotation.T


def _regular_polygon(corners: int, start_degrees: float) -> np.ndarray:
    angles = np.radians(start_degrees + 360.0 * np.arange(corners) / corners)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


# Unit outlines (radius 1, y pointing down) of the polygonal shapes.
_STAR = np.concatenate([
    _regular_polygon(5, -90)[:, None], 0.45 * _regular_polygon(5, -54)[:, None]
], axis=1).reshape(-1, 2)
_CROSS = np.array([(-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3),
                   (0.3, 0.3), (0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3),
                   (-1, -0.3), (-0.3, -0.3)])
_POLYGONS: Dict[str, np.ndarray] = {
    'square': 0.84 * np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float),
    # Centred on its bounding box rather than its circumcircle.
    'triangle': _regular_polygon(3, -90) + (0, 0.25),
    'hexagon': _regular_polygon(6, 0),
    'star': _STAR,
    'cross': _CROSS,
    'diamond': np.array([(0, -1), (0.68, 0), (0, 1), (-0.68, 0)], float),
}
# Polygons only turn a little so that a square never becomes a diamond.
_MAX_TILT_DEGREES = 12.0
_SUBPIXEL_BITS = 4  # OpenCV drawing 'shift': coordinates in 1/16 px


def _fixed_point(values) -> np.ndarray:
    return np.round(np.asarray(values) * (1 << _SUBPIXEL_BITS)).astype(
        np.int32)


def shape_silhouette(shape: str, size: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Binary silhouette of one object in its own ``size x size`` square.

    Drawn without anti-aliasing so that the silhouette is exactly the set of
    pixels the object paints.

    Args:
        shape: one of :data:`SHAPES`.
        size: side in pixels.
        rng: draws the orientation.

    Returns:
        np.ndarray: bool, shape ``(size, size)``.
    """
    canvas = np.zeros((size, size), dtype=np.uint8)
    centre_xy = np.array([(size - 1) / 2.0] * 2)
    radius = size / 2.0 - 0.5
    centre = tuple(int(v) for v in _fixed_point(centre_xy))
    shift = _SUBPIXEL_BITS
    if shape in _POLYGONS:
        tilt = rng.uniform(-_MAX_TILT_DEGREES, _MAX_TILT_DEGREES)
        outline = centre_xy + radius * _rotate(_POLYGONS[shape], tilt)
        cv2.fillPoly(canvas, [_fixed_point(outline)], 1, cv2.LINE_8, shift)
    elif shape in ('circle', 'ring', 'crescent'):
        cv2.circle(canvas, centre, int(_fixed_point(radius)), 1, -1,
                   cv2.LINE_8, shift)
        if shape == 'ring':
            cv2.circle(canvas, centre, int(_fixed_point(0.55 * radius)), 0,
                       -1, cv2.LINE_8, shift)
        elif shape == 'crescent':
            direction = _rotate(np.array([[1.0, 0.0]]),
                                rng.uniform(0, 360))[0]
            bite = centre_xy + 0.45 * radius * direction
            cv2.circle(canvas, tuple(int(v) for v in _fixed_point(bite)),
                       int(_fixed_point(0.85 * radius)), 0, -1, cv2.LINE_8,
                       shift)
    elif shape == 'ellipse':
        axes = tuple(int(v) for v in _fixed_point((radius, 0.55 * radius)))
        cv2.ellipse(canvas, centre, axes, rng.uniform(0, 180), 0, 360, 1, -1,
                    cv2.LINE_8, shift)
    else:
        raise ValueError(f'unknown shape {shape!r}; known: {SHAPES}')
    return canvas.astype(bool)


def texture_pattern(texture: str, size: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Where an object shows its colour (True) or its dark shade (False).

    Periods are in image pixels (5-7 px), the same for all object sizes, with
    a random phase (and stripe angle).

    Args:
        texture: one of :data:`TEXTURES`.
        size: side of the object's square.
        rng: draws period, phase and angle.

    Returns:
        np.ndarray: bool, shape ``(size, size)``.
    """
    if texture == 'solid':
        return np.ones((size, size), dtype=bool)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    period = rng.uniform(5.0, 7.0)
    rows += rng.uniform(0, period)
    cols += rng.uniform(0, period)
    if texture == 'striped':
        angle = rng.uniform(0, math.pi)
        across = cols * math.cos(angle) + rows * math.sin(angle)
        return np.mod(across, period) < period / 2
    if texture == 'dotted':
        offset_x = np.mod(cols, period) - period / 2
        offset_y = np.mod(rows, period) - period / 2
        return offset_x**2 + offset_y**2 > (0.3 * period)**2
    if texture == 'checkered':
        cell = period / 2
        return (np.floor(cols / cell) + np.floor(rows / cell)) % 2 == 0
    raise ValueError(f'unknown texture {texture!r}; known: {TEXTURES}')


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Grey-ish gradient with faint lines and blobs that are not objects."""
    base = rng.uniform(70, 140) + rng.uniform(-15, 15, size=3)
    slope = rng.uniform(-25, 25, size=(2, 3))
    ramp = np.linspace(-0.5, 0.5, size)
    image = (base + ramp[:, None, None] * slope[0] +
             ramp[None, :, None] * slope[1])
    clutter = image.copy()
    for _ in range(rng.integers(3, 9)):
        start = rng.integers(0, size, 2)
        end = rng.integers(0, size, 2)
        colour = (base + rng.uniform(-45, 45, 3)).tolist()
        cv2.line(clutter, (int(start[0]), int(start[1])),
                 (int(end[0]), int(end[1])), colour,
                 int(rng.integers(1, 3)), cv2.LINE_AA)
    for _ in range(rng.integers(2, 6)):
        centre = rng.integers(0, size, 2)
        axes = rng.integers(size // 20 + 1, size // 5 + 2, 2)
        colour = (base + rng.uniform(-50, 50, 3)).tolist()
        cv2.ellipse(clutter, (int(centre[0]), int(centre[1])),
                    (int(axes[0]), int(axes[1])), rng.uniform(0, 180), 0, 360,
                    colour, -1, cv2.LINE_AA)
    # Faint: the clutter shows at 30-50 % opacity.
    opacity = rng.uniform(0.3, 0.5)
    return (1 - opacity) * image + opacity * clutter


@dataclass
class _Placement:
    top: int
    left: int
    silhouette: np.ndarray  # bool (size, size)
    visible_in_image: np.ndarray  # bool, the part inside the image
    clip: Tuple[slice, slice, slice, slice]  # image rows/cols, crop rows/cols


def _place(silhouette: np.ndarray, top: int, left: int,
           image_size: int) -> Optional[_Placement]:
    size = silhouette.shape[0]
    row0, col0 = max(top, 0), max(left, 0)
    row1 = min(top + size, image_size)
    col1 = min(left + size, image_size)
    if row1 <= row0 or col1 <= col0:
        return None
    clip = (slice(row0, row1), slice(col0, col1),
            slice(row0 - top, row1 - top), slice(col0 - left, col1 - left))
    return _Placement(top, left, silhouette, silhouette[clip[2], clip[3]],
                      clip)


def render_image(classes: Sequence[ClassAppearance],
                 category_ids: Sequence[int], settings: LongTailSettings,
                 rng: np.random.Generator,
                 max_tries_per_object: int = 40
                 ) -> Tuple[np.ndarray, List[Dict[str, Any]], List[int]]:
    """Draw one image and the exact visible mask of each object.

    Objects are drawn in order, each over the earlier ones. Each object
    tries up to ``max_tries_per_object`` random sizes and positions (objects
    may be cut by the border) and takes the first one that keeps at least
    ``min_visible_fraction`` of its own silhouette inside the image and of
    every earlier object's silhouette uncovered; tries shrink the object
    progressively. If no try qualifies, the try that hides the fewest pixels
    of earlier objects is used. After all drawing each instance's mask is the
    set of pixels it still shows; instances showing less than
    ``drop_visible_fraction`` of their silhouette are dropped (their
    categories are returned so that the caller can mark them
    not-exhaustive).

    Args:
        classes: appearance of category id ``k`` at index ``k - 1``.
        category_ids: the objects, in drawing order.
        settings: image size, object sizes, visibility thresholds.
        rng: all randomness of this image.
        max_tries_per_object: placement attempts per object.

    Returns:
        tuple: the BGR uint8 image of shape ``(S, S, 3)``; per kept object a
        dict with ``category_id``, ``mask`` (bool ``(S, S)``), ``bbox``
        (COCO ``[x, y, w, h]`` ints) and ``area`` (pixel count), in drawing
        order; category ids of dropped instances.
    """
    image_size = settings.image_size
    image = _background(rng, image_size)
    # Which object shows at each pixel (-1: background).
    owner = np.full((image_size, image_size), -1, dtype=np.int32)
    silhouette_areas = np.zeros(len(category_ids), dtype=np.int64)
    visible_areas = np.zeros(len(category_ids), dtype=np.int64)
    min_size, max_size = (fraction * image_size
                          for fraction in settings.object_size)
    keep = settings.min_visible_fraction
    for index, category_id in enumerate(category_ids):
        appearance = classes[category_id - 1]
        best, best_hidden = None, None
        for attempt in range(max_tries_per_object):
            # Later tries shrink the range towards the smallest size.
            shrink = 1.0 - 0.5 * attempt / max_tries_per_object
            size = int(round(rng.uniform(min_size,
                                         max(min_size, max_size * shrink))))
            silhouette = shape_silhouette(appearance.shape, size, rng)
            margin = size // 4  # up to a quarter may hang over the border
            top, left = rng.integers(-margin, image_size - size + margin + 1,
                                     size=2)
            placement = _place(silhouette, int(top), int(left), image_size)
            if placement is None:
                continue
            area = int(silhouette.sum())
            if placement.visible_in_image.sum() < keep * area:
                continue
            below = owner[placement.clip[0], placement.clip[1]][
                placement.visible_in_image]
            hidden = np.bincount(below[below >= 0],
                                 minlength=len(category_ids))
            # Only objects that lose pixels are checked: a fallback
            # placement may have left an earlier one below the threshold.
            remaining = visible_areas - hidden
            ok = np.all((hidden[:index] == 0) |
                        (remaining[:index] >= keep * silhouette_areas[:index]))
            if best is None or int(hidden.sum()) < best_hidden:
                best, best_hidden = placement, int(hidden.sum())
            if ok:
                best = placement
                break
        if best is None:  # every try fell outside the image: centre it
            size = int(round(min_size))
            start = (image_size - size) // 2
            best = _place(shape_silhouette(appearance.shape, size, rng),
                          start, start, image_size)
        rows, cols, crop_rows, crop_cols = best.clip
        painted = best.visible_in_image
        hidden = np.bincount(owner[rows, cols][painted & (
            owner[rows, cols] >= 0)], minlength=len(category_ids))
        visible_areas -= hidden
        silhouette_areas[index] = int(best.silhouette.sum())
        visible_areas[index] = int(painted.sum())
        owner[rows, cols][painted] = index
        size = best.silhouette.shape[0]
        shade = rng.uniform(0.9, 1.1)  # lighting differs between objects
        colour = np.array(COLOURS[appearance.colour], dtype=np.float64)
        bright = np.clip(colour * shade, 0, 255)
        dark = 0.3 * bright + 10
        pattern = texture_pattern(appearance.texture, size, rng)[crop_rows,
                                                                   crop_cols]
        region = image[rows, cols]
        region[painted & pattern] = bright
        region[painted & ~pattern] = dark

    # Sensor noise over everything (masks are unaffected).
    image = image + rng.normal(0, 4.0, size=image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)

    instances, dropped = [], []
    for index, category_id in enumerate(category_ids):
        mask = owner == index
        area = int(mask.sum())
        if area == 0 or area < settings.drop_visible_fraction * \
                silhouette_areas[index]:
            dropped.append(int(category_id))
            continue
        rows_any = np.flatnonzero(mask.any(axis=1))
        cols_any = np.flatnonzero(mask.any(axis=0))
        x0, y0 = int(cols_any[0]), int(rows_any[0])
        bbox = [x0, y0, int(cols_any[-1]) - x0 + 1, int(rows_any[-1]) - y0 + 1]
        instances.append(dict(category_id=int(category_id), mask=mask,
                              bbox=bbox, area=area))
    return image, instances, dropped


def encode_mask(mask: np.ndarray) -> Dict[str, Any]:
    """Compressed RLE of a bool ``(H, W)`` mask, JSON-ready (``counts`` as
    str, ``size`` as ``[H, W]``)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {'size': [int(v) for v in rle['size']],
            'counts': rle['counts'].decode('ascii')}


# ------------------------------------------------------------------ writing
def _category_records(plan: LongTailPlan, image_counts: np.ndarray,
                      instance_counts: np.ndarray) -> List[Dict[str, Any]]:
    records = []
    for category_id, appearance in enumerate(plan.classes, start=1):
        image_count = int(image_counts[category_id - 1])
        records.append({
            'id': category_id,
            'name': appearance.name,
            'synset': f'{appearance.name}.n.01',
            'synonyms': [appearance.name],
            'def': appearance.definition,
            'frequency': lvis_frequency(image_count),
            'image_count': image_count,
            'instance_count': int(instance_counts[category_id - 1]),
        })
    return records


def _settings_record(plan: LongTailPlan) -> Dict[str, Any]:
    """What decides the output; equal records mean identical files."""
    return {'format_version': FORMAT_VERSION, 'seed': plan.seed,
            'settings': plan.settings.to_dict()}


def _write_json(path: str, content: Dict[str, Any]) -> None:
    temporary = path + '.tmp'
    with open(temporary, 'w') as file:
        json.dump(content, file, separators=(',', ':'))
    os.replace(temporary, path)  # never leave a half-written file


def _render_split(plan: LongTailPlan, split: SplitPlan, stream: int,
                  out_dir: str, first_annotation_id: int,
                  progress: bool) -> Tuple[List[dict], List[dict], int]:
    """Draw and save a split's images; returns its LVIS ``images`` and
    ``annotations`` records and the number of dropped instances."""
    image_dir = osp.join(out_dir, split.folder)
    os.makedirs(image_dir, exist_ok=True)
    images, annotations = [], []
    annotation_id = first_annotation_id
    dropped_total = 0
    for index in tqdm(range(len(split.image_ids)), desc=f'{split.name} images',
                      unit='img', disable=not progress):
        # One stream per image: an image does not depend on the others.
        rng = np.random.default_rng([plan.seed, stream, index])
        image, instances, dropped = render_image(
            plan.classes, split.category_ids[index], plan.settings, rng)
        dropped_total += len(dropped)
        file_name = split.file_name(index)
        cv2.imwrite(osp.join(image_dir, file_name), image,
                    [cv2.IMWRITE_JPEG_QUALITY, plan.settings.jpeg_quality])
        image_id = split.image_ids[index]
        kept = {instance['category_id'] for instance in instances}
        images.append({
            'id': image_id,
            'coco_url': f'{_URL_HOST}/{split.folder}/{file_name}',
            'file_name': file_name,
            'height': plan.settings.image_size,
            'width': plan.settings.image_size,
            # A dropped instance still shows a little: its class may have
            # unannotated pixels here unless another instance is kept.
            'not_exhaustive_category_ids': sorted(set(dropped) & kept),
            'neg_category_ids': split.neg_category_ids[index],
        })
        for instance in instances:
            annotations.append({
                'id': annotation_id,
                'image_id': image_id,
                'category_id': instance['category_id'],
                'bbox': instance['bbox'],
                'area': instance['area'],
                'segmentation': encode_mask(instance['mask']),
                'iscrowd': 0,
            })
            annotation_id += 1
    return images, annotations, dropped_total


def _counts_from_annotations(annotations: List[dict], num_classes: int
                             ) -> Tuple[np.ndarray, np.ndarray]:
    instance_counts = np.zeros(num_classes, dtype=np.int64)
    images_of = [set() for _ in range(num_classes)]
    for annotation in annotations:
        instance_counts[annotation['category_id'] - 1] += 1
        images_of[annotation['category_id'] - 1].add(annotation['image_id'])
    image_counts = np.array([len(ids) for ids in images_of], dtype=np.int64)
    return instance_counts, image_counts


def _output_paths(out_dir: str) -> Dict[str, str]:
    return {
        'data_root': out_dir,
        'train_ann_file': osp.join(out_dir, 'annotations', TRAIN_JSON),
        'val_ann_file': osp.join(out_dir, 'annotations', VAL_JSON),
        'train_img_dir': osp.join(out_dir, 'train2017'),
        'val_img_dir': osp.join(out_dir, 'val2017'),
    }


def _existing_output(paths: Dict[str, str], plan: LongTailPlan
                     ) -> Optional[Dict[str, Any]]:
    """The train file's content if the output on disk is complete and was
    made from the same settings and seed, else None."""
    if not (osp.isfile(paths['train_ann_file']) and
            osp.isfile(paths['val_ann_file'])):
        return None
    try:
        with open(paths['train_ann_file']) as file:
            train = json.load(file)
    except (OSError, ValueError):
        return None
    if not isinstance(train, dict) or train.get('info', {}).get(
            'generator') != _settings_record(plan):
        return None
    for split in (plan.train, plan.val):
        folder = osp.join(paths['data_root'], split.folder)
        if not all(osp.isfile(osp.join(folder, split.file_name(index)))
                   for index in range(len(split.image_ids))):
            return None
    return train


def _summary(categories: List[Dict[str, Any]],
             bin_edges: Sequence[int]) -> Dict[str, Any]:
    """Training statistics of written categories (sorted by id)."""
    instance_counts = [category['instance_count'] for category in categories]
    frequencies = [category['frequency'] for category in categories]
    return {
        'instance_counts': instance_counts,
        'frequency_counts': {letter: frequencies.count(letter)
                             for letter in 'rcf'},
        'group_sizes': bin_sizes(instance_counts, bin_edges),
    }


def generate_longtail_lvis(out_dir: str, preset: str = 'tiny', seed: int = 0,
                           force: bool = False, progress: bool = True,
                           **overrides) -> Dict[str, Any]:
    """Generate (or reuse) a long-tail LVIS v1-format dataset.

    Args:
        out_dir: dataset root; gets ``annotations/``, ``train2017/`` and
            ``val2017/``.
        preset: a key of :data:`PRESETS`.
        seed: the same seed gives byte-identical JSON and identical images.
        force: regenerate even if a complete output with the same settings
            and seed exists.
        progress: show tqdm progress bars.
        **overrides: :class:`LongTailSettings` fields replacing the preset's.

    Returns:
        dict: ``data_root``, ``train_ann_file``, ``val_ann_file``,
        ``train_img_dir``, ``val_img_dir`` (paths); ``bin_edges`` (tuple, the
        scaled BAGS edges), ``scale_factor``, ``class_names`` (in label
        order, for ``metainfo=dict(classes=...)``), ``settings``
        (:class:`LongTailSettings`), ``seed``, ``reused`` (bool),
        ``dropped_instances`` (planned objects that ended up almost fully
        occluded, normally 0); from the written training split:
        ``instance_counts`` (list, label order: usable as
        ``groups=dict(instance_counts=..., bin_edges=...)``),
        ``frequency_counts`` (``{'r': .., 'c': .., 'f': ..}``) and
        ``group_sizes`` (classes per scaled bin).
    """
    settings = resolve_settings(preset, **overrides)
    plan = plan_long_tail_dataset(settings, seed)
    out_dir = osp.abspath(out_dir)
    paths = _output_paths(out_dir)
    result: Dict[str, Any] = dict(
        paths, bin_edges=plan.bin_edges, scale_factor=plan.scale_factor,
        class_names=plan.class_names, settings=settings, seed=seed)

    existing = None if force else _existing_output(paths, plan)
    if existing is not None:
        result.update(_summary(existing['categories'], plan.bin_edges))
        result.update(reused=True, dropped_instances=existing['info'].get(
            'dropped_instances', 0))
        return result

    os.makedirs(osp.dirname(paths['train_ann_file']), exist_ok=True)
    # The train file is the completion marker: remove it first so that an
    # interrupted run is never mistaken for a complete one.
    if osp.exists(paths['train_ann_file']):
        os.remove(paths['train_ann_file'])
    train_images, train_annotations, train_dropped = _render_split(
        plan, plan.train, _TRAIN_STREAM, out_dir, 1, progress)
    val_images, val_annotations, val_dropped = _render_split(
        plan, plan.val, _VAL_STREAM, out_dir, len(train_annotations) + 1,
        progress)

    num_classes = settings.num_classes
    instance_counts, image_counts = _counts_from_annotations(
        train_annotations, num_classes)
    categories = _category_records(plan, image_counts, instance_counts)
    dropped = train_dropped + val_dropped
    info = {
        'description': 'Synthetic long-tail detection dataset in LVIS v1 '
                       'format: classes are colour/texture/shape '
                       'combinations with LVIS v1-shaped instance counts',
        'generator': _settings_record(plan),
        'preset': preset,
        'seed': seed,
        'scale_factor': plan.scale_factor,
        'bags_bin_edges': list(plan.bin_edges),
        'lvis_bin_edges': list(LVIS_BIN_EDGES),
        'frequency_image_counts': {'r': [1, RARE_MAX_IMAGES],
                                   'c': [RARE_MAX_IMAGES + 1,
                                         COMMON_MAX_IMAGES],
                                   'f': [COMMON_MAX_IMAGES + 1, None]},
        'lvis_instance_counts': [int(c) for c in plan.lvis_counts],
        'dropped_instances': dropped,
    }
    _write_json(paths['val_ann_file'], {
        'info': dict(info, split='val'), 'images': val_images,
        'annotations': val_annotations, 'categories': categories})
    _write_json(paths['train_ann_file'], {
        'info': dict(info, split='train'), 'images': train_images,
        'annotations': train_annotations, 'categories': categories})
    result.update(_summary(categories, plan.bin_edges))
    result.update(reused=False, dropped_instances=dropped)
    return result
