"""The package's one annotation-file writer."""
import json

import pytest

from mmdet_bags.datasets import write_json


def test_writes_compact_json_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text('old')
    write_json(str(path), {'images': [{'id': 1}], 'x': [1, 2]})
    assert path.read_text() == '{"images":[{"id":1}],"x":[1,2]}'
    assert [p.name for p in tmp_path.iterdir()] == ['a.json']


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text('{"old":true}')
    with pytest.raises(TypeError):
        write_json(str(path), {'bad': object()})
    assert json.loads(path.read_text()) == {'old': True}
