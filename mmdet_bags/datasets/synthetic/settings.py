"""What a generated long-tail set is made of: its settings and its classes.

:class:`LongTailSettings` holds every size and knob but the seed,
:data:`PRESETS` names the usual ones, and :func:`class_catalogue` lists the
classes, each a visual combination ``(colour, texture, shape)``.
"""
import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import numpy as np

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

# Fixed seed of the class catalogue: the class names depend on the number of
# classes only, never on the user's seed.
_CATALOGUE_SEED = 20200614


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

