"""Deterministic generator of a long-tail detection set in LVIS v1 format.

Every class is a visual combination ``(colour, texture, shape)``, e.g.
``red_striped_circle``, so a detector can learn it from pixels alone. The
number of training instances per class follows the long tail of LVIS v1: the
LVIS v1 training instance counts are sorted in descending order, ``C`` of them
are taken evenly spaced in rank and rescaled to the requested number of
training instances. The same scale factor maps the BAGS default bin edges
``(10, 100, 1000)`` to the generated set, so the BAGS groups of the generated
set mirror those of LVIS.

The modules, in the order generation runs:

* :mod:`.settings`: :class:`LongTailSettings`, the :data:`PRESETS` and the
  class catalogue;
* :mod:`.long_tail`: the LVIS-shaped instance counts and scaled bin edges;
* :mod:`.plan`: :func:`plan_long_tail_dataset` decides everything that is
  counted (which classes go in which image, per-class instance and image
  counts, LVIS frequencies, scaled bin edges, negative categories). It draws
  nothing and runs in milliseconds, so the statistics of any preset can be
  checked quickly;
* :mod:`.rendering`: :func:`render_image` draws one image of a plan:
  background clutter, objects (later ones over earlier ones), pixel-exact
  visible masks;
* :mod:`.lvis_writer`: :func:`generate_longtail_lvis` runs both and writes::

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

* :mod:`.coco_writer`: :func:`generate_longtail_coco` adds COCO instance
  files of the same set, as a user's own data.

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

This subpackage imports no model code: only numpy, OpenCV, pycocotools,
tqdm, and the bins and built-in count tables of :mod:`mmdet_bags.grouping`.
"""
from .coco_writer import generate_longtail_coco, lvis_to_coco
from .long_tail import (COMMON_MAX_IMAGES, LVIS_BIN_EDGES, RARE_MAX_IMAGES,
                        lvis_frequency, lvis_v1_instance_counts,
                        pick_long_tail_counts, rescale_counts,
                        scaled_bin_edges)
from .lvis_writer import (FORMAT_VERSION, TRAIN_JSON, VAL_JSON,
                          generate_longtail_lvis)
from .plan import LongTailPlan, SplitPlan, plan_long_tail_dataset
from .rendering import (encode_mask, render_image, shape_silhouette,
                        texture_pattern)
from .settings import (COLOURS, MAX_CLASSES, PRESETS, SHAPES, TEXTURES,
                       ClassAppearance, LongTailSettings, class_catalogue,
                       resolve_settings)

__all__ = [
    'generate_longtail_coco', 'lvis_to_coco', 'COMMON_MAX_IMAGES',
    'LVIS_BIN_EDGES', 'RARE_MAX_IMAGES', 'lvis_frequency',
    'lvis_v1_instance_counts', 'pick_long_tail_counts', 'rescale_counts',
    'scaled_bin_edges', 'FORMAT_VERSION', 'TRAIN_JSON', 'VAL_JSON',
    'generate_longtail_lvis', 'LongTailPlan', 'SplitPlan',
    'plan_long_tail_dataset', 'encode_mask', 'render_image',
    'shape_silhouette', 'texture_pattern', 'COLOURS', 'MAX_CLASSES',
    'PRESETS', 'SHAPES', 'TEXTURES', 'ClassAppearance', 'LongTailSettings',
    'class_catalogue', 'resolve_settings'
]
