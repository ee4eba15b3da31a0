"""A generated LVIS-format file and detections on it, as LVIS results: the
data of the Fixed AP and chunked-evaluation tests."""
import json
from collections import defaultdict


def generated_lvis_results(path: str, num_images: int, num_categories: int,
                           dets_per_image: int, seed: int) -> dict:
    """Write the file to ``path``; return ``path``, ``per_image`` (image id,
    detections as ``image_detections`` gives them), ``results`` (LVIS result
    dicts, xywh float boxes as ``results2json`` writes them) and ``counts``
    (instance counts per category)."""
    from mmdet_bags.analysis.fixed_ap_benchmark import (
        generate_lvis_val_like, image_detections)
    data = generate_lvis_val_like(path, num_images, num_categories,
                                  seed=seed)
    content = json.load(open(path))
    by_image = defaultdict(list)
    for annotation in content['annotations']:
        by_image[annotation['image_id']].append(annotation)
    per_image, results = [], []
    for index, image in enumerate(content['images']):
        detections = image_detections(index, by_image[image['id']],
                                      num_categories, dets_per_image,
                                      seed=seed)
        per_image.append((image['id'], detections))
        for box, score, label in zip(detections['bboxes'],
                                     detections['scores'],
                                     detections['labels']):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append(dict(image_id=image['id'],
                                category_id=int(label) + 1,
                                score=float(score),
                                bbox=[x1, y1, float(box[2] - box[0]),
                                      float(box[3] - box[1])]))
    return dict(path=path, per_image=per_image, results=results,
                counts=data['instance_counts'])
