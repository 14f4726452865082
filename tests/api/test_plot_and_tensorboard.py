"""`mtdnn plot` draws real curves; the `tensorboard` callback writes events TensorBoard reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn.api import train
from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


def _run(folder: Path, losses: list[float], rte: list[float], extra: bool = False) -> Path:
    folder.mkdir(parents=True)
    records = []
    for epoch, (loss, accuracy) in enumerate(zip(losses, rte, strict=True), start=1):
        train_values = {"loss": loss, **({"smart_divergence": 0.01 * epoch} if extra else {})}
        records.append(
            {
                "epoch": epoch,
                "step": 10 * epoch,
                "dev": {"rte": {"accuracy": accuracy}, "mrpc": {"accuracy": 0.7, "f1": 0.8 + 0.01 * epoch}},
                "best": accuracy == max(rte[:epoch]),
                "train": train_values,
            }
        )
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_plot_overlays_runs_into_an_image_that_is_not_blank(tmp_path: Path) -> None:
    import matplotlib.image

    first = _run(tmp_path / "plain", [0.7, 0.6, 0.5], [0.52, 0.55, 0.54])
    second = _run(tmp_path / "smart", [0.72, 0.62, 0.55], [0.50, 0.58, 0.60], extra=True)
    result = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["plot", str(first), str(second), "-o", str(tmp_path / "out" / "curves.png")],
    )
    assert result.exit_code == 0, result.output
    assert "4 panels: training loss, training values, dev: mrpc, dev: rte" in result.output
    image = matplotlib.image.imread(tmp_path / "out" / "curves.png")
    assert image.shape[0] > 300 and image.shape[1] > 1000
    drawn = (image[..., :3] < 0.9).any(axis=-1).mean()  # pixels that are not (nearly) white
    assert 0.02 < drawn < 0.5, drawn
    colours = {tuple(pixel) for pixel in (image[..., :3] * 255).astype(int).reshape(-1, 3)[::7]}
    assert len(colours) > 50  # two runs in two colours, text, grid: not one flat tone


def test_plot_refuses_a_run_without_evaluations(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    cli = make_cli(get_plugin_manager(autoload=False))
    result = CliRunner().invoke(cli, ["plot", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "has no evaluations in metrics.jsonl yet" in result.output


def test_the_tensorboard_callback_writes_training_and_dev_scalars(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    callbacks = [{"type": "tensorboard"}]
    config = quickstart_config(repo_root, tiny_bert, epochs=2, log_every=5, callbacks=callbacks)
    config["trainer"]["objective"] = {"type": "r_drop", "alpha": 1.0}
    result = train(config, tmp_path / "run", registry)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/r_drop_divergence"} <= tags
    assert {"dev/rte/accuracy", "dev/mrpc/f1", "dev/sst2/accuracy"} <= tags
    steps = [event.step for event in events.Scalars("train/loss")]
    assert steps == list(range(5, result.state.global_step + 1, 5))
    assert [event.step for event in events.Scalars("dev/rte/accuracy")] == [45, 90]
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [event.value for event in events.Scalars("dev/rte/accuracy")]
    assert logged == pytest.approx([r["dev"]["rte"]["accuracy"] for r in records])
    lrs = [event.value for event in events.Scalars("train/lr")]
    assert max(lrs) <= 5e-5 + 1e-12 and lrs[-1] < lrs[len(lrs) // 2]  # warm-up then linear decay
