"""Drawing one image of a plan: background clutter, objects (later ones
over earlier ones) and their pixel-exact visible masks."""
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils

from .settings import COLOURS, SHAPES, TEXTURES, ClassAppearance, \
    LongTailSettings


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
