"""Trainer options: precision, accumulation, early stopping, devices and data-parallel shares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.api import train
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training import callbacks as callbacks_module
from mtdnn.training.callbacks import Callback, TrimMemory, malloc_trim
from mtdnn.training.device import (
    autocast,
    cgroup_cpu_limit,
    configure_threads,
    native_bf16,
    resolve_precision,
    select_device,
    usable_cpus,
)
from mtdnn.training.distributed import DistributedContext
from mtdnn.training.state import TrainerControl, TrainerState
from tests.conftest import quickstart_config


def test_each_rank_gets_a_disjoint_share_and_the_same_number_of_batches() -> None:
    batches = [[i] for i in range(7)]
    shares = [DistributedContext(rank, 3, rank).share(batches) for rank in range(3)]
    assert shares == [[[0], [3], [6]], [[1], [4], [0]], [[2], [5], [1]]]
    assert DistributedContext().share(batches) == batches
    assert not DistributedContext().enabled and DistributedContext().is_main


def test_bf16_autocast_trains_on_the_cpu(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, precision="bf16")
    result = train(config, tmp_path / "run", registry)
    assert result.state.global_step == 45
    scores = json.loads((tmp_path / "run" / "metrics.jsonl").read_text())["dev"]
    assert all(0.0 <= value <= 1.0 for task in scores.values() for value in task.values())
    with (
        pytest.raises(ConfigurationError, match="fp16 autocast needs a GPU"),
        autocast(torch.device("cpu"), "fp16"),
    ):
        pass


def _pretend_native_bf16(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)


@pytest.mark.parametrize(("native", "expected"), [(True, "bf16"), (False, "fp32")])
def test_auto_precision_is_bf16_exactly_where_the_cpu_computes_it_natively(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, native: bool, expected: str
) -> None:
    _pretend_native_bf16(monkeypatch, native)
    cpu = torch.device("cpu")
    assert native_bf16(cpu) is native
    with caplog.at_level("INFO", logger="mtdnn.training.device"):
        assert resolve_precision(cpu, "auto") == expected
    assert f"precision auto -> {expected}: this CPU" in caplog.text
    assert resolve_precision(cpu, "fp32") == "fp32"  # an explicit choice is kept
    assert not native_bf16(torch.device("meta"))  # neither a CPU nor a GPU: never native


def test_explicit_bf16_without_native_support_is_kept_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _pretend_native_bf16(monkeypatch, False)
    with caplog.at_level("WARNING", logger="mtdnn.training.device"):
        assert resolve_precision(torch.device("cpu"), "bf16") == "bf16"
    assert "has no native bf16: it is emulated and much slower than fp32" in caplog.text
    with pytest.raises(ConfigurationError, match="fp16 autocast needs a GPU"):
        resolve_precision(torch.device("cpu"), "fp16")


@pytest.mark.parametrize("native", [True, False])
def test_the_default_precision_is_auto_resolved_written_to_every_metrics_line_and_shown(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    repo_root: Path,
    tiny_bert: Path,
    registry: Registry,
    native: bool,
) -> None:
    _pretend_native_bf16(monkeypatch, native)
    used: list[torch.dtype | None] = []
    evaluated: list[torch.dtype | None] = []
    forward = torch.nn.Linear.forward

    def recording(self: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        output = forward(self, x)
        (used if self.training else evaluated).append(output.dtype)
        return output

    monkeypatch.setattr(torch.nn.Linear, "forward", recording)
    config = quickstart_config(repo_root, tiny_bert, epochs=2, progress_bar=True)
    assert "precision" not in config["trainer"]  # the default
    for task in config["tasks"].values():
        task["train_limit"] = 32
    train(config, tmp_path / "run", registry)
    records = RunDirectory(tmp_path / "run").read_records()
    assert [record["precision"] for record in records] == ["bf16" if native else "fp32"] * 2
    shown = "bf16 (auto: native bf16 here)" if native else "fp32 (auto: no native bf16 here)"
    threads = torch.get_num_threads()
    assert f"training on cpu ({threads} threads), precision {shown}\n" in capsys.readouterr().err
    assert records[0]["threads"] == torch.get_num_threads()
    assert set(used) == {torch.bfloat16 if native else torch.float32}
    assert set(evaluated) == {torch.float32}  # dev evaluations in fp32, as `mtdnn evaluate`


def _cgroup(tmp_path: Path, *, v2: str | None = None, v1: tuple[str, str] | None = None) -> Path:
    tmp_path.mkdir()
    if v2 is not None:
        (tmp_path / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (tmp_path / "cpu").mkdir()
        (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(v1[0] + "\n")
        (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(v1[1] + "\n")
    return tmp_path


def test_the_cgroup_cpu_quota_is_read_from_v2_and_v1_files(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_cgroup(tmp_path / "a", v2="150000 100000")) == 1.5
    assert cgroup_cpu_limit(_cgroup(tmp_path / "b", v2="max 100000")) is None
    assert cgroup_cpu_limit(_cgroup(tmp_path / "c", v1=("200000", "100000"))) == 2.0
    assert cgroup_cpu_limit(_cgroup(tmp_path / "d", v1=("-1", "100000"))) is None
    assert cgroup_cpu_limit(_cgroup(tmp_path / "e", v2="garbage")) is None
    assert cgroup_cpu_limit(tmp_path / "missing") is None


def test_threads_are_capped_by_the_quota_never_raised_and_left_alone_when_the_user_chose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(64)))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(8)
        quota = _cgroup(tmp_path / "quota", v2="250000 100000")  # docker --cpus 2.5
        assert usable_cpus(quota) == (3, "cgroup quota of 2.5 CPUs")
        assert configure_threads(quota) == 3 and torch.get_num_threads() == 3
        assert configure_threads(tmp_path / "none") == 3  # 64 usable CPUs: never raised
        torch.set_num_threads(8)
        monkeypatch.setenv("OMP_NUM_THREADS", "8")
        assert configure_threads(quota) == 8  # the user's choice wins
    finally:
        torch.set_num_threads(before)


def test_gradient_accumulation_divides_the_optimizer_steps(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, accumulation_steps=4)
    result = train(config, tmp_path / "run", registry)
    assert result.state.global_step == 12  # ceil(45 batches / 4)
    assert result.state.total_steps == 12


def _stalling_config(repo_root: Path, tiny_bert: Path, *, patience: int) -> dict[str, Any]:
    """RTE alone with early stopping, and a learning rate of ~0 so the score never improves."""
    config = quickstart_config(
        repo_root,
        tiny_bert,
        epochs=6,
        callbacks=[{"type": "early_stopping", "patience": patience}],
        optimizer={"type": "adamw", "lr": 1e-12},
    )
    config["tasks"] = {"rte": config["tasks"]["rte"]}
    return config


def test_early_stopping_ends_training_when_the_score_stalls(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = _stalling_config(repo_root, tiny_bert, patience=2)
    result = train(config, tmp_path / "run", registry)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3  # the best at epoch 1, then two without improvement
    assert result.state.epoch == 3 and result.state.best_epoch == 0
    assert [json.loads(line)["best"] for line in lines] == [True, False, False]


def test_device_selection() -> None:
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="CUDA is not available"):
            select_device("cuda")
    with pytest.raises(ConfigurationError, match="unknown device"):
        select_device("quantum")


def test_validation_metric_must_name_a_computed_metric(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, validation_metric="rte.f1")
    # Checked before any training happens.
    with pytest.raises(ConfigurationError, match=r"validation metric 'rte\.f1' was not computed") as info:
        train(config, tmp_path / "run", registry)
    assert "mrpc.f1" in str(info.value)


class EvaluateEvery(Callback):
    """Asks for an evaluation every ``steps`` optimizer steps."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        if state.global_step % self.steps == 0:
            control.should_evaluate = True


def test_a_callback_can_request_evaluations_inside_an_epoch(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    result = train(config, tmp_path / "run", registry, callbacks=[EvaluateEvery(20)])
    steps = [record["step"] for record in RunDirectory(tmp_path / "run").read_records()]
    assert steps == [20, 40, 45]
    assert result.state.evaluations == 3


def test_resuming_an_early_stopped_run_does_not_train_further(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = _stalling_config(repo_root, tiny_bert, patience=1)
    stopped = train(config, tmp_path / "ended", registry)
    assert stopped.state.stopped and stopped.removed_checkpoints > 0  # an early stop is an end
    with pytest.raises(ConfigurationError, match="nothing to resume"):
        train(config, tmp_path / "ended", registry, resume=True)
    config["trainer"]["keep_checkpoints_at_end"] = True
    first = train(config, tmp_path / "run", registry)
    assert first.state.stopped and first.state.epoch == 2
    again = train(config, tmp_path / "run", registry, resume=True)
    assert again.state.epoch == 2 and again.state.global_step == first.state.global_step
    assert len(RunDirectory(tmp_path / "run").read_records()) == 2


def test_trim_memory_trims_the_c_heap_every_n_optimizer_steps(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    trims: list[int] = []

    class Recording(TrimMemory):
        def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
            self.trim = lambda _pad: trims.append(state.global_step) or 1  # records the step instead
            super().on_step_end(state, control)

    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    train(config, tmp_path / "run", registry, callbacks=[Recording(every=10)])
    assert trims == [10, 20, 30, 40]  # 45 steps
    with pytest.raises(ConfigurationError, match="every must be at least 1"):
        TrimMemory(every=0)


def test_malloc_trim_is_glibcs_where_there_is_one() -> None:
    trim = malloc_trim()
    if trim is None:
        pytest.skip("this C library has no malloc_trim")
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was none to release


def test_trim_memory_sets_the_mmap_threshold_once_at_setup_and_may_skip_trims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thresholds: list[int] = []
    monkeypatch.setattr(callbacks_module, "set_mmap_threshold", lambda size: thresholds.append(size) or True)
    callback = TrimMemory(every=None, mmap_threshold=2 << 20)
    assert callback.trim is None  # no trims without ``every``
    callback.setup(run_dir=tmp_path, is_main=True)
    callback.on_step_end(TrainerState(global_step=10), TrainerControl())
    assert thresholds == [2 << 20]
    TrimMemory(every=10).setup(run_dir=tmp_path, is_main=True)  # no threshold: glibc's stays
    assert thresholds == [2 << 20]
    with pytest.raises(ConfigurationError, match="mmap_threshold must be between 0 and 33554432"):
        TrimMemory(mmap_threshold=64 << 20)
    with pytest.raises(ConfigurationError, match="mmap_threshold must be between"):
        TrimMemory(mmap_threshold=-1)


# Frees a 24 MiB block twice and prints how far the resident memory stays above where it began.
# glibc serves the first from mmap, raises its threshold to that size when it is freed, and then
# serves the second from the heap, which keeps it; with a fixed 1 MiB threshold both go back.
# Only the "fixed" run imports mtdnn (and so torch), so the glibc run starts from a small heap.
_FREED_TWICE = """
import ctypes, ctypes.util, os, sys
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
if sys.argv[1] == "fixed":
    from mtdnn.training.callbacks import set_mmap_threshold
    assert set_mmap_threshold(1 << 20)
before = resident()
for _ in range(2):
    block = libc.malloc(24 << 20)
    ctypes.memset(block, 1, 24 << 20)
    libc.free(block)
print(resident() - before)
"""


def test_a_fixed_mmap_threshold_hands_large_freed_blocks_back_to_the_system() -> None:
    if not sys.platform.startswith("linux") or malloc_trim() is None:
        pytest.skip("needs glibc on Linux (mallopt, /proc/self/statm)")

    def kept_after_freeing(mode: str) -> int:
        command = [sys.executable, "-c", _FREED_TWICE, mode]
        return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

    assert kept_after_freeing("glibc") > 20 << 20  # the second block stayed in the heap
    assert kept_after_freeing("fixed") < 1 << 20


def test_trim_memory_is_registered_for_configs(registry: Registry) -> None:
    assert registry.resolve(Callback, "trim_memory", path="callbacks[0]") is TrimMemory
