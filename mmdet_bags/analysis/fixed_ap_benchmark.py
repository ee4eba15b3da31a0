"""Memory and time of ``PerBinLVISMetric(ap_fixed=True)`` against
MMDetection's ``LVISMetric`` on the same detections.

No images and no model: an LVIS v1-sized validation file (about 20,000
images, 1,203 classes, federated ``neg_category_ids`` /
``not_exhaustive_category_ids``) is generated as JSON, and each image's
detections are generated from ``(seed, image index)`` when the metric asks
for them, so both metrics see identical detections and the generator holds
none. Each metric runs in its own process, so that its peak resident memory
(``ru_maxrss``) is its own. Boxes only (``metric='bbox'``): masks would need
image-sized arrays per detection.

Used by ``tools/analysis/benchmark_fixed_ap.py``.
"""
import json
import multiprocessing
import os
import os.path as osp
import resource
import time
from typing import Dict, Iterator, List, Sequence

import numpy as np

#: LVIS v1's rare / common / frequent shares of its 1,203 classes.
LVIS_V1_FREQUENCY_COUNTS = dict(r=337, c=461, f=405)
IMAGE_SIZE = (480, 640)  # height, width


def _class_weights(num_categories: int) -> np.ndarray:
    """How often each class (by rank) appears: Zipf-like, like LVIS."""
    weights = 1.0 / np.arange(1, num_categories + 1)**1.1
    return weights / weights.sum()


def _random_boxes(rng, count: int) -> np.ndarray:
    """``(count, 4)`` xyxy boxes inside the image, at least 4 px wide."""
    height, width = IMAGE_SIZE
    x1 = rng.uniform(0, width - 8, count)
    y1 = rng.uniform(0, height - 8, count)
    x2 = np.minimum(x1 + rng.uniform(4, 200, count), width)
    y2 = np.minimum(y1 + rng.uniform(4, 200, count), height)
    return np.stack([x1, y1, x2, y2], axis=1)


def generate_lvis_val_like(path: str, num_images: int = 20000,
                           num_categories: int = 1203,
                           seed: int = 0) -> Dict[str, object]:
    """Write an LVIS-format validation file shaped like LVIS v1 val.

    Each image has ``1 + Poisson(2)`` annotated classes (drawn by a
    Zipf-like popularity) with ``Geometric(0.4)`` instances each, ``2 +
    Poisson(4)`` negative classes, and each annotated class is marked not
    exhaustive with probability 0.1. Classes are ``f``/``c``/``r`` by
    popularity in LVIS v1's proportions.

    Returns:
        dict: ``path``, ``num_images``, ``num_annotations`` and
        ``instance_counts`` (training counts in label order: LVIS v1's own
        counts assigned by popularity, for the per-bin keys).
    """
    from mmdet_bags.grouping import load_builtin_table
    rng = np.random.default_rng(seed)
    weights = _class_weights(num_categories)
    shares = np.array(list(LVIS_V1_FREQUENCY_COUNTS.values()), dtype=float)
    bounds = np.cumsum(shares / shares.sum() * num_categories)
    letters = ['f' if rank < bounds[0] else 'c' if rank < bounds[1] else 'r'
               for rank in range(num_categories)]
    height, width = IMAGE_SIZE
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        positive = rng.choice(
            num_categories, min(1 + rng.poisson(2), 21, num_categories),
            replace=False, p=weights) + 1
        negative = np.setdiff1d(
            rng.choice(num_categories,
                       min(2 + rng.poisson(4), num_categories),
                       replace=False) + 1, positive)
        for category_id in positive:
            for box in _random_boxes(rng, rng.geometric(0.4)):
                x1, y1, x2, y2 = (float(v) for v in box)
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=image_id,
                    category_id=int(category_id),
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1),
                    segmentation=[[x1, y1, x1, y2, x2, y2, x2, y1]]))
        images.append(dict(
            id=image_id, height=height, width=width,
            file_name=f'{image_id:012d}.jpg',
            neg_category_ids=[int(c) for c in negative],
            not_exhaustive_category_ids=[
                int(c) for c in positive if rng.random() < 0.1]))
    categories = [dict(id=cid, name=f'class_{cid}', synset=f'class_{cid}',
                       frequency=letters[cid - 1], image_count=1,
                       instance_count=1)
                  for cid in range(1, num_categories + 1)]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as file:
        json.dump(dict(images=images, annotations=annotations,
                       categories=categories), file)
    lvis_counts = sorted(load_builtin_table('lvis_v1').instance_counts,
                         reverse=True)
    counts = [lvis_counts[rank % len(lvis_counts)]
              for rank in range(num_categories)]
    return dict(path=path, num_images=num_images,
                num_annotations=len(annotations), instance_counts=counts)


def image_detections(image_index: int, annotations: List[dict],
                     num_categories: int, dets_per_image: int,
                     seed: int) -> Dict[str, np.ndarray]:
    """``dets_per_image`` detections of one image: two jittered copies of
    every ground-truth box with high scores (up to half the budget), the
    rest random boxes of classes drawn by popularity (mostly classes the
    image says nothing about, as with a real detector) with low scores.
    Labels are ``category_id - 1``."""
    rng = np.random.default_rng([seed, image_index])
    true = [a for a in annotations for _ in range(2)][:dets_per_image // 2]
    boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
              a['bbox'][1] + a['bbox'][3]] for a in true]
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4) + rng.normal(
        0, 3, (len(true), 4))
    labels = np.array([a['category_id'] - 1 for a in true], dtype=np.int64)
    scores = rng.uniform(0.2, 1.0, len(true))
    rest = dets_per_image - len(true)
    boxes = np.concatenate([boxes, _random_boxes(rng, rest)])
    labels = np.concatenate([labels, rng.choice(
        num_categories, rest, p=_class_weights(num_categories))])
    scores = np.concatenate([scores, rng.beta(1, 8, rest)])
    return dict(bboxes=boxes.astype(np.float32),
                scores=scores.astype(np.float32), labels=labels)


def detection_batches(gt_path: str, dets_per_image: int, seed: int,
                      batch_size: int = 8) -> Iterator[List[dict]]:
    """Data samples as a detector's test loop hands them to a metric."""
    import torch
    with open(gt_path) as file:
        content = json.load(file)
    by_image: Dict[int, list] = {}
    for annotation in content['annotations']:
        by_image.setdefault(annotation['image_id'], []).append(annotation)
    num_categories = len(content['categories'])
    images = content['images']
    del content
    for start in range(0, len(images), batch_size):
        batch = []
        for index in range(start, min(start + batch_size, len(images))):
            image = images[index]
            detections = image_detections(
                index, by_image.get(image['id'], []), num_categories,
                dets_per_image, seed)
            batch.append(dict(
                img_id=image['id'], ori_shape=IMAGE_SIZE,
                pred_instances={key: torch.from_numpy(value)
                                for key, value in detections.items()}))
        yield batch


def _rss_mib() -> float:
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def _measure(kind: str, gt_path: str, instance_counts: Sequence[int],
             dets_per_image: int, max_dets_per_class: int, seed: int,
             queue) -> None:
    """In a fresh process: build the metric, feed it every batch, evaluate;
    report times, RSS before and peak RSS."""
    import mmdet_bags  # noqa: F401  (registers, applies compat fixes)
    from mmdet.evaluation import LVISMetric

    from mmdet_bags.evaluation import PerBinLVISMetric
    started = time.perf_counter()
    if kind == 'LVISMetric':
        metric = LVISMetric(ann_file=gt_path, metric='bbox')
    else:
        metric = PerBinLVISMetric(
            ann_file=gt_path, metric='bbox',
            groups=dict(instance_counts=list(instance_counts)),
            ap_fixed=True, ap_fixed_max_dets_per_class=max_dets_per_class)
    metric.dataset_meta = dict(classes=tuple(
        f'class_{i + 1}' for i in range(len(instance_counts))))
    rss_before = _rss_mib()
    built, built_cpu = time.perf_counter(), time.process_time()
    num_images = 0
    for batch in detection_batches(gt_path, dets_per_image, seed):
        metric.process({}, batch)
        num_images += len(batch)
    processed, processed_cpu = time.perf_counter(), time.process_time()
    rss_after_process = _rss_mib()
    results = metric.evaluate(size=num_images)
    finished, finished_cpu = time.perf_counter(), time.process_time()
    queue.put(dict(
        metric=kind, build_s=round(built - started, 1),
        process_s=round(processed - built, 1),
        evaluate_s=round(finished - processed, 1),
        # CPU time of this process: the steady figure on a shared machine.
        process_cpu_s=round(processed_cpu - built_cpu, 1),
        evaluate_cpu_s=round(finished_cpu - processed_cpu, 1),
        rss_before_mib=round(rss_before),
        rss_after_process_mib=round(rss_after_process),
        peak_rss_mib=round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024),
        results={key: value for key, value in results.items()}))


def _run_guarded(kind: str, args: tuple, max_rss_gib: float) -> dict:
    """:func:`_measure` in a spawned process, its RSS sampled every second
    from outside; stopped beyond ``max_rss_gib``."""
    import queue as queue_module

    import psutil
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    process = context.Process(target=_measure, args=(kind, ) + args +
                              (queue, ))
    started = time.perf_counter()
    process.start()
    watched, peak = psutil.Process(process.pid), 0.0
    while True:
        try:
            row = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            pass
        try:
            peak = max(peak, watched.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            pass
        if peak > max_rss_gib * 1024:
            process.kill()
            row = dict(metric=kind, stopped=(
                f'stopped at {peak / 1024:.1f} GiB RSS after '
                f'{time.perf_counter() - started:.0f} s (limit '
                f'{max_rss_gib} GiB)'), peak_rss_mib=round(peak),
                results={})
            break
        if not process.is_alive():
            row = dict(metric=kind, stopped=f'exited with code '
                       f'{process.exitcode}', peak_rss_mib=round(peak),
                       results={})
            break
    process.join()
    return row


def run_fixed_ap_benchmark(work_dir: str = 'work_dirs/fixed_ap_benchmark',
                           num_images: int = 20000,
                           num_categories: int = 1203,
                           dets_per_image: int = 300,
                           max_dets_per_class: int = 10000,
                           seed: int = 0,
                           metrics: Sequence[str] = ('LVISMetric',
                                                     'PerBinLVISMetric'),
                           max_rss_gib: float = 8.0) -> dict:
    """Generate the set, measure each metric in its own process, write
    ``results.md`` / ``results.json`` to ``work_dir``.

    A metric whose process grows beyond ``max_rss_gib`` is stopped (this
    runs on shared machines) and reported as such, with the RSS and time it
    had reached."""
    gt_path = osp.join(work_dir, f'lvis_val_like_{num_images}_'
                       f'{num_categories}_seed{seed}.json')
    started = time.perf_counter()
    data = generate_lvis_val_like(gt_path, num_images, num_categories, seed)
    generated_s = round(time.perf_counter() - started, 1)
    print(f'[fixed-ap benchmark] {num_images} images, {num_categories} '
          f'classes, {data["num_annotations"]} annotations, '
          f'{dets_per_image} detections per image ({generated_s} s)',
          flush=True)
    rows = []
    for kind in metrics:
        row = _run_guarded(kind, (gt_path, data['instance_counts'],
                                  dets_per_image, max_dets_per_class, seed),
                           max_rss_gib)
        print(f'[fixed-ap benchmark] {kind}: {row}', flush=True)
        rows.append(row)
    settings = dict(num_images=num_images, num_categories=num_categories,
                    num_annotations=data['num_annotations'],
                    dets_per_image=dets_per_image,
                    max_dets_per_class=max_dets_per_class, seed=seed,
                    max_rss_gib=max_rss_gib, cpu_count=os.cpu_count())
    table = format_benchmark_table(rows)
    with open(osp.join(work_dir, 'results.md'), 'w') as file:
        file.write(table + '\n')
    with open(osp.join(work_dir, 'results.json'), 'w') as file:
        json.dump(dict(settings=settings, rows=rows), file, indent=1)
    return dict(settings=settings, rows=rows, table=table)


def format_benchmark_table(rows: Sequence[dict]) -> str:
    lines = ['| metric | process s (CPU s) | evaluate s (CPU s) | '
             'RSS before MiB | RSS after process MiB | peak RSS MiB | '
             'bbox AP | bbox APfixed |', '|---|' + '---:|' * 7]
    for row in rows:
        results = row['results']
        fixed = results.get('lvis/bbox_APfixed')
        if 'stopped' in row:
            lines.append(f'| {row["metric"]} | {row["stopped"]} |' +
                         ' |' * 6)
            continue
        lines.append(
            f'| {row["metric"]} | {row["process_s"]} '
            f'({row.get("process_cpu_s", "-")}) | {row["evaluate_s"]} '
            f'({row.get("evaluate_cpu_s", "-")}) | '
            f'{row["rss_before_mib"]} | {row["rss_after_process_mib"]} | '
            f'{row["peak_rss_mib"]} | {results.get("lvis/bbox_AP")} | '
            f'{"-" if fixed is None else fixed} |')
    return '\n'.join(lines)
