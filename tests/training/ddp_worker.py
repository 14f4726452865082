"""Run by ``torchrun`` in test_distributed.py: train with gloo and report this rank's weights."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from mtdnn.api import train
from mtdnn.api.train import load_split
from mtdnn.experiment import build_experiment
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.training.distributed import DistributedContext
from mtdnn.training.evaluation import evaluate_tasks


def main() -> None:
    config_path, run_dir, report_dir = (Path(arg) for arg in sys.argv[1:4])
    config = json.loads(config_path.read_text())
    registry = build_registry(get_plugin_manager(autoload=False))
    result = train(config, run_dir, registry)
    experiment = build_experiment(config, registry)
    dev = load_split(experiment, "dev")
    device = torch.device("cpu")
    alone = evaluate_tasks(result.model, experiment.tasks, dev, device=device)  # every batch, this rank
    batches = 0

    def count(*_: object) -> None:
        nonlocal batches
        batches += 1

    handle = result.model.register_forward_hook(count)
    split = evaluate_tasks(
        result.model, experiment.tasks, dev, device=device, dist=DistributedContext.from_env()
    )
    handle.remove()
    digest = hashlib.sha256()
    for name, tensor in sorted(result.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    rank = dist.get_rank()
    report = {
        "rank": rank,
        "world_size": dist.get_world_size(),
        "steps": result.state.global_step,
        "sha256": digest.hexdigest(),
        "dev_alone": alone,
        "dev_split": split,
        "eval_batches": batches,
    }
    (report_dir / f"rank{rank}.json").write_text(json.dumps(report))
    assert torch.get_num_threads() >= 1
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
