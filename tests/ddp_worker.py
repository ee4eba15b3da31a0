"""One rank of the 2-process CPU training in tests/test_distributed.py.

Launched by torchrun. MMEngine's own `--launcher pytorch` initialisation
calls torch.cuda.set_device, which a CPU-only torch cannot do; initialising
the gloo process group first makes MMEngine use it as it is. On GPUs the
ordinary launchers (`mim train ... --launcher pytorch`, Slurm) apply.

Usage: torchrun --nproc_per_node 2 tests/ddp_worker.py DATA_JSON WORK_DIR OUT
"""
import hashlib
import json
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(data_json: str, work_dir: str, out_prefix: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    import mmdet_bags  # noqa: F401
    import mmdet_bags.models.losses.group_softmax_loss as loss_module
    from mmengine.runner import Runner

    from detection_helpers import skip_config_formatting, tiny_cfg
    skip_config_formatting()
    from test_distributed import CONFIG

    selections = []
    original = loss_module.select_rois

    def recording(*args, **kwargs):
        selected = original(*args, **kwargs)
        selections.append(
            hashlib.sha256(selected.numpy().tobytes()).hexdigest())
        return selected
    loss_module.select_rois = recording

    with open(data_json) as file:
        data = json.load(file)
    cfg = tiny_cfg(CONFIG, data, work_dir)
    cfg.launcher = 'pytorch'
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel',
                                 device_ids=None, broadcast_buffers=False)
    cfg.randomness = dict(seed=5, diff_rank_seed=True)
    cfg.train_cfg.update(max_epochs=1, val_interval=100)
    cfg.train_dataloader.dataset.indices = 8  # 2 iterations per rank
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model.module
    digest = hashlib.sha256(b''.join(
        p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()
    with open(f'{out_prefix}.rank{rank}.json', 'w') as file:
        json.dump(dict(rank=rank, world_size=dist.get_world_size(),
                       parameters=digest, selections=selections,
                       iterations=runner.iter), file)
    dist.destroy_process_group()


if __name__ == '__main__':
    main(*sys.argv[1:4])
