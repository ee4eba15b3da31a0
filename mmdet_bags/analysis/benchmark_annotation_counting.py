"""Time and memory of counting instances in an LVIS v1-sized annotation file.

Behind ``tools/analysis/benchmark_annotation_counting.py``. The file is
generated (LVIS v1 train's 1,203 categories with their real instance counts,
1,270,141 annotations with one 7-15 point polygon each, 100,170 images: about
400 MB, the size of the real file's annotations), so no download is needed.
Each parser runs in a fresh interpreter, after the imports, and reports its
wall and CPU time (CPU time is the steadier one on a shared machine) and its
peak resident memory above the interpreter's own.
"""
import json
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from typing import Dict

#: parser name -> what it measures.
PARSERS: Dict[str, str] = {
    'mmdet_bags': 'count_instances_in_annotation_file (our streaming parser)',
    'ijson': 'ijson (yajl2_c), same result and checks: 2 passes',
    'ijson_ids_only': 'ijson (yajl2_c), category ids only (no categories, '
                      'no checks): 1 pass',
    'json': 'json.load + counting annotations[*].category_id',
}


def count_with_ijson(path: str) -> Counter:
    """What :func:`~mmdet_bags.grouping.count_instances_in_annotation_file`
    would do with ijson: the same categories, counts and refusals.

    ijson extracts one prefix per pass at C speed and real files list their
    categories after the annotations, so it reads the file twice (a single
    pass over every parse event in Python is slower still); checking that
    every annotation has a ``category_id`` needs each annotation built.
    """
    import ijson
    with open(path, 'rb') as file:
        if next(ijson.basic_parse(file), (None, ))[0] != 'start_map':
            raise ValueError(f'{path}: expected a JSON object')
        file.seek(0)
        counts: Counter = Counter()
        for annotation in ijson.items(file, 'annotations.item',
                                      use_float=True):
            if not isinstance(annotation, dict) or \
                    'category_id' not in annotation:
                raise ValueError(f'{path}: an annotation has no category_id')
            counts[annotation['category_id']] += 1
        file.seek(0)
        categories = next(ijson.items(file, 'categories', use_float=True),
                          None)
    if not isinstance(categories, list):
        raise ValueError(f'{path} has no "categories" list')
    return Counter({category['id']: counts.get(category['id'], 0)
                    for category in categories})


def write_lvis_sized_annotation_file(path: str, seed: int = 0,
                                     num_images: int = 100170) -> int:
    """Write the LVIS v1-sized file; returns its number of annotations."""
    from mmdet_bags.grouping import load_builtin_table
    table = load_builtin_table('lvis_v1')
    rng = random.Random(seed)
    labels = [category_id for category_id, count in
              zip(table.category_ids, table.instance_counts)
              for _ in range(count)]
    rng.shuffle(labels)
    categories = [dict(id=i, name=name, frequency=frequency,
                       instance_count=count) for i, name, frequency, count in
                  zip(table.category_ids, table.names, table.frequencies,
                      table.instance_counts)]
    with open(path, 'w') as file:
        file.write('{"info": {"description": "LVIS v1-sized, generated"}, '
                   '"images": [')
        file.write(','.join(json.dumps(dict(
            id=i, width=640, height=480, file_name=f'{i:012d}.jpg',
            not_exhaustive_category_ids=[], neg_category_ids=[]))
            for i in range(1, num_images + 1)))
        file.write('], "annotations": [')
        for number, category_id in enumerate(labels, 1):
            x, y = rng.uniform(0, 500), rng.uniform(0, 400)
            polygon = [round(value, 2) for _ in range(rng.randint(7, 15))
                       for value in (x + rng.uniform(0, 100),
                                     y + rng.uniform(0, 60))]
            file.write(('' if number == 1 else ',') + json.dumps(dict(
                area=round(rng.uniform(10, 5000), 2), id=number,
                segmentation=[polygon],
                image_id=rng.randint(1, num_images),
                bbox=[round(x, 2), round(y, 2), 100.0, 60.0],
                category_id=category_id)))
        file.write('], "categories": ' + json.dumps(categories) + '}')
    return len(labels)


def _rss_mb() -> float:
    with open('/proc/self/statm') as file:
        pages = int(file.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def measure_here(parser: str, path: str) -> dict:
    """Run one parser in this process: seconds, peak RSS above the RSS
    before parsing (MB), and the number of annotations counted."""
    if parser not in PARSERS:
        raise ValueError(f'unknown parser {parser!r}; known: '
                         f'{", ".join(PARSERS)}')
    extra = {}
    if parser.startswith('ijson'):
        import ijson
        extra['ijson'] = f'{ijson.__version__} ({ijson.backend})'
    from mmdet_bags.grouping import count_instances_in_annotation_file
    baseline = _rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    if parser == 'mmdet_bags':
        annotations = sum(
            count_instances_in_annotation_file(path).instance_counts)
    elif parser == 'ijson':
        annotations = sum(count_with_ijson(path).values())
    elif parser == 'ijson_ids_only':
        with open(path, 'rb') as file:
            annotations = sum(Counter(ijson.items(
                file, 'annotations.item.category_id',
                use_float=True)).values())
    else:
        with open(path) as file:
            content = json.load(file)
        annotations = sum(Counter(annotation['category_id'] for annotation
                                  in content['annotations']).values())
        del content
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(parser=parser, seconds=round(seconds, 1),
                cpu_seconds=round(cpu_seconds, 1),
                # ru_maxrss and statm count slightly differently: >= 0.
                peak_rss_above_start_mb=round(max(peak - baseline, 0.0), 1),
                rss_at_start_mb=round(baseline, 1), annotations=annotations,
                **extra)


def measure(parser: str, path: str) -> dict:
    """:func:`measure_here` in a fresh interpreter (nothing cached)."""
    code = ('import json, sys; from mmdet_bags.analysis.'
            'benchmark_annotation_counting import measure_here; '
            'print(json.dumps(measure_here(sys.argv[1], sys.argv[2])))')
    result = subprocess.run([sys.executable, '-c', code, parser, path],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])
