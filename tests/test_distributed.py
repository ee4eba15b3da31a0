"""Two training processes on CPU (gloo) through MMEngine's DDP wrapper with
a BAGS config: both finish, parameters stay identical across ranks, each
rank samples its own "others" and does so reproducibly from the seed."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from detection_helpers import generate_tiny_longtail

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
CONFIG = TESTS.parent / 'configs' / 'bags' / \
    'bags_mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def launch(data_json, work_dir, out_prefix):
    command = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_addr=127.0.0.1', f'--master_port={free_port()}',
        str(TESTS / 'ddp_worker.py'), str(data_json), str(work_dir),
        str(out_prefix)
    ]
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'),
                            timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return [json.loads(Path(f'{out_prefix}.rank{rank}.json').read_text())
            for rank in (0, 1)]


def test_two_cpu_processes_train_a_bags_model(tmp_path):
    data = generate_tiny_longtail(tmp_path / 'data', seed=4)
    data_json = tmp_path / 'data.json'
    data_json.write_text(json.dumps({
        key: data[key] for key in ('data_root', 'train_ann_file',
                                   'val_ann_file', 'class_names',
                                   'bin_edges')
    }))
    first = launch(data_json, tmp_path / 'run1', tmp_path / 'run1')
    second = launch(data_json, tmp_path / 'run2', tmp_path / 'run2')
    for ranks in (first, second):
        assert [r['world_size'] for r in ranks] == [2, 2]
        assert ranks[0]['iterations'] == ranks[1]['iterations'] == 2
        # DDP keeps the replicas identical.
        assert ranks[0]['parameters'] == ranks[1]['parameters']
        # Each rank draws its own sample (different data, different seed).
        assert ranks[0]['selections'] != ranks[1]['selections']
        assert len(ranks[0]['selections']) == 2
    # Same seed: the same draws and the same weights again.
    for rank in (0, 1):
        assert first[rank]['selections'] == second[rank]['selections']
        assert first[rank]['parameters'] == second[rank]['parameters']
