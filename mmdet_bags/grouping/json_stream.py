"""A streaming reader of one JSON document, used to count the annotations of
COCO/LVIS files of any size (see :func:`~mmdet_bags.grouping.sources.
count_instances_in_annotation_file`)."""
import json


class JsonStream:
    """Reads one JSON document from a file piece by piece.

    Only what the caller asks for is decoded, one value at a time, from a
    buffer refilled in chunks, so an annotation file of any size is read
    with memory for one chunk plus the largest single annotation.

    Kept instead of ijson because it measured clearly faster (issue #14):
    ``python tools/analysis/benchmark_annotation_counting.py
    /tmp/lvis_v1_sized.json --make-file`` (an LVIS v1-sized file: 1,270,141
    annotations with polygons, 402 MB; each parser in a fresh interpreter),
    on a 2-core x86_64 machine shared with other jobs (load average ~15, so
    CPU time is the steady figure): this parser 12.1 s CPU, 6 MB above the
    interpreter's own memory; ijson 3.6.0 (yajl2_c) with the same result and
    checks 18.5 s CPU, 1 MB (it needs two passes: one prefix per pass at C
    speed, and categories come after the annotations; counting only
    ``annotations.item.category_id``, without categories or checks, 6.8 s);
    ``json.load`` plus counting 26.1 s CPU, 2.5 GB. Three runs gave
    11.6-12.9 s (this parser) and 17.7-20.1 s (ijson, same checks) CPU;
    wall times swung with the load (this run: 112 s, 93 s, 24 s, 86 s).
    """

    _whitespace = ' \t\n\r'

    def __init__(self, file, path: str, chunk_size: int = 1 << 20) -> None:
        self.file = file
        self.path = path
        self.chunk_size = chunk_size
        self.buffer = ''
        self.position = 0
        self.at_end = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.at_end:
            return False
        chunk = self.file.read(self.chunk_size)
        if not chunk:
            self.at_end = True
            return False
        self.buffer = self.buffer[self.position:] + chunk
        self.position = 0
        return True

    def error(self, what: str) -> ValueError:
        return ValueError(f'annotation file {self.path!r} is not valid JSON '
                          f'(or not COCO/LVIS format): {what}')

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the file)."""
        while True:
            while self.position < len(self.buffer) and \
                    self.buffer[self.position] in self._whitespace:
                self.position += 1
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._fill():
                return ''

    def expect(self, character: str) -> None:
        found = self.peek()
        if found != character:
            raise self.error(f'expected {character!r}, found '
                             f'{found or "end of file"!r}')
        self.position += 1

    def value(self):
        """Decode the next complete JSON value."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer,
                                                     self.position)
                # A value ending exactly at the buffer's end may be cut short
                # (a number); accept it only once the file is exhausted.
                if end < len(self.buffer) or self.at_end:
                    self.position = end
                    return value
            except json.JSONDecodeError as decode_error:
                if self.at_end:
                    raise self.error(str(decode_error)) from None
            if not self._fill():
                continue  # at end now: decode once more, then report

    def array_items(self):
        """Yield the items of the JSON array that comes next."""
        self.expect('[')
        if self.peek() == ']':
            self.position += 1
            return
        while True:
            yield self.value()
            separator = self.peek()
            self.position += 1
            if separator == ']':
                return
            if separator != ',':
                raise self.error(f"expected ',' or ']' in an array, found "
                                 f'{separator or "end of file"!r}')

    def object_keys(self):
        """Yield the keys of the JSON object that comes next; the caller
        must consume each key's value before asking for the next key."""
        self.expect('{')
        if self.peek() == '}':
            self.position += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self.error(f'object key {key!r} is not a string')
            self.expect(':')
            yield key
            separator = self.peek()
            self.position += 1
            if separator == '}':
                return
            if separator != ',':
                raise self.error(f"expected ',' or '}}' in an object, found "
                                 f'{separator or "end of file"!r}')
