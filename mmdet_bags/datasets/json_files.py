"""Writing annotation files: the one JSON writer of the package."""
import json
import os
from typing import Any


def write_json(path: str, content: Any) -> None:
    """Write ``content`` as compact JSON (no spaces, like the LVIS/COCO
    files) to ``path``, through a temporary file in the same folder, so an
    interrupted run never leaves a half-written file under ``path``.

    Args:
        path: the file to (over)write; its folder must exist.
        content: anything ``json.dump`` accepts.
    """
    temporary = f'{path}.tmp'
    with open(temporary, 'w') as file:
        json.dump(content, file, separators=(',', ':'))
    os.replace(temporary, path)
