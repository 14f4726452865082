"""Random and ratio samplers: built from config, task frequencies match their formulas, deterministic."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mtdnn.config import build
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.samplers import (
    AnnealedSampler,
    MainAuxSampler,
    ProportionalSampler,
    TaskSampler,
    TemperatureSampler,
    UniformSampler,
    plan_lengths,
)
from mtdnn.samplers.main_aux import apportion

COUNTS = {"big": 1000, "mid": 100, "small": 10}
STEPS = 100_000


def frequencies(plan: list[str]) -> dict[str, float]:
    counter = Counter(plan)
    return {task: counter[task] / len(plan) for task in COUNTS}


def powered(alpha: float) -> dict[str, float]:
    """The formula p_i = n_i^alpha / sum_j n_j^alpha, written out independently of the samplers."""
    total = sum(n**alpha for n in COUNTS.values())
    return {task: n**alpha / total for task, n in COUNTS.items()}


def assert_matches(observed: Mapping[str, float], expected: Mapping[str, float], steps: int) -> None:
    """Each frequency within 5 standard errors sqrt(p(1-p)/N) of its probability.

    With N = 100k draws the standard error is at most 0.0016, so the band is at most +-0.008: a
    correct sampler fails it with probability below 1e-6 per task (and the seeds are fixed, so the
    test cannot flake), while every pair of formulas compared below differs by several times more.
    """
    for task, p in expected.items():
        assert abs(observed[task] - p) <= band(p, steps), (task, observed[task], p, band(p, steps))


def band(p: float, steps: int) -> float:
    return 5 * math.sqrt(p * (1 - p) / steps)


def far_apart(a: Mapping[str, float], b: Mapping[str, float], steps: int) -> bool:
    """Whether frequencies drawn from ``b`` fall outside ``a``'s band (and vice versa) for some task."""
    return any(abs(a[t] - b[t]) > band(a[t], steps) + band(b[t], steps) for t in a)


@pytest.mark.parametrize(
    ("config", "cls"),
    [
        ({"type": "uniform", "steps": 5}, UniformSampler),
        ({"type": "proportional"}, ProportionalSampler),
        ({"type": "temperature", "alpha": 0.5, "steps": 7}, TemperatureSampler),
        ({"type": "annealed", "start": 1.0, "end": 0.5}, AnnealedSampler),
        ({"type": "main_aux", "main": "big", "ratio": 0.5, "main_last": True}, MainAuxSampler),
    ],
)
def test_each_sampler_builds_from_config(registry: Registry, config: dict[str, Any], cls: type) -> None:
    sampler = build(registry, TaskSampler, config, path="sampler")
    assert isinstance(sampler, cls)
    for key, value in config.items():
        if key != "type":
            assert getattr(sampler, key) == value
    plan = sampler.plan(COUNTS, epoch=0, seed=1, total_epochs=3)
    assert set(plan) <= set(COUNTS) and plan


def test_defaults_are_the_papers_values() -> None:
    assert TemperatureSampler().alpha == 0.75  # BAM
    annealed = AnnealedSampler()  # Stickland & Murray: alpha = 1 - 0.8 (e - 1) / (E - 1)
    assert [annealed.alpha(e, 5) for e in range(5)] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2])
    assert annealed.alpha(0, 1) == 1.0


def test_uniform_frequencies_are_one_over_k() -> None:
    plan = UniformSampler(steps=STEPS).plan(COUNTS, epoch=0, seed=13)
    assert len(plan) == STEPS
    assert_matches(frequencies(plan), {t: 1 / 3 for t in COUNTS}, STEPS)


def test_proportional_frequencies_follow_batch_counts() -> None:
    plan = ProportionalSampler(steps=STEPS).plan(COUNTS, epoch=0, seed=13)
    expected = {t: n / sum(COUNTS.values()) for t, n in COUNTS.items()}
    assert_matches(frequencies(plan), expected, STEPS)


@pytest.mark.parametrize("alpha", [0.75, 0.5, 0.0, 1.0])
def test_temperature_frequencies_follow_counts_to_the_alpha(alpha: float) -> None:
    plan = TemperatureSampler(alpha=alpha, steps=STEPS).plan(COUNTS, epoch=2, seed=13)
    assert_matches(frequencies(plan), powered(alpha), STEPS)


def test_the_tolerance_tells_the_formulas_apart() -> None:
    # Otherwise the frequency tests would pass for a sampler using the wrong exponent.
    for a, b in [(0.75, 1.0), (0.75, 0.5), (0.75, 0.0), (1.0, 0.2), (0.2, 0.0)]:
        assert far_apart(powered(a), powered(b), STEPS)


def test_annealed_frequencies_at_first_middle_and_last_epoch() -> None:
    sampler = AnnealedSampler(steps=STEPS)
    for epoch, alpha in [(0, 1.0), (2, 0.6), (4, 0.2)]:
        plan = sampler.plan(COUNTS, epoch=epoch, seed=13, total_epochs=5)
        assert_matches(frequencies(plan), powered(alpha), STEPS)
    with pytest.raises(ValueError, match="total_epochs"):
        sampler.plan(COUNTS, epoch=0, seed=13)


def test_random_samplers_default_to_the_shuffle_all_epoch_length_and_skip_empty_tasks() -> None:
    counts = {"a": 3, "b": 0, "c": 5}
    for sampler in (UniformSampler(), ProportionalSampler(), TemperatureSampler(), AnnealedSampler()):
        plan = sampler.plan(counts, epoch=0, seed=1, total_epochs=2)
        assert len(plan) == 8 and "b" not in plan
        assert sampler.plan({"a": 0}, epoch=0, seed=1, total_epochs=2) == []


def test_a_plan_can_ask_a_task_for_more_batches_than_it_has() -> None:
    plan = UniformSampler(steps=300).plan({"a": 100, "b": 2}, epoch=0, seed=5)
    assert Counter(plan)["b"] > 2  # the trainer's streams continue b with a reshuffle


@pytest.mark.parametrize(
    "make",
    [
        lambda: UniformSampler(steps=200),
        lambda: ProportionalSampler(steps=200),
        lambda: TemperatureSampler(steps=200),
        lambda: AnnealedSampler(steps=200),
        lambda: MainAuxSampler("big", ratio=0.2),
    ],
)
def test_plans_depend_only_on_seed_and_epoch(make: Any) -> None:
    counts = {"big": 100, "mid": 60, "small": 40}
    sampler: TaskSampler = make()
    first = sampler.plan(counts, epoch=1, seed=3, total_epochs=4)
    assert first == make().plan(dict(reversed(counts.items())), epoch=1, seed=3, total_epochs=4)
    assert first == sampler.plan(counts, epoch=1, seed=3, total_epochs=4)  # no hidden state
    assert first != sampler.plan(counts, epoch=2, seed=3, total_epochs=4)
    assert first != sampler.plan(counts, epoch=1, seed=4, total_epochs=4)


def test_plans_are_the_same_in_another_process(repo_root: Path) -> None:
    # Every data-parallel rank is another process, with another string-hash salt.
    script = (
        "import json\n"
        "from mtdnn.samplers import AnnealedSampler, MainAuxSampler, TemperatureSampler, UniformSampler\n"
        "counts = {'big': 100, 'mid': 60, 'small': 40}\n"
        "samplers = [UniformSampler(), TemperatureSampler(), AnnealedSampler(), MainAuxSampler('mid')]\n"
        "print(json.dumps([s.plan(counts, epoch=1, seed=3, total_epochs=4) for s in samplers]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(repo_root), "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    counts = {"big": 100, "mid": 60, "small": 40}
    samplers = [UniformSampler(), TemperatureSampler(), AnnealedSampler(), MainAuxSampler("mid")]
    assert json.loads(output) == [s.plan(counts, epoch=1, seed=3, total_epochs=4) for s in samplers]


@pytest.mark.parametrize(
    "config",
    [
        "uniform",
        {"type": "temperature", "alpha": 0.5, "steps": 50},
        {"type": "annealed", "end": 0.0},
        {"type": "main_aux", "main": "mid", "ratio": 1.5},
    ],
)
def test_state_round_trips_through_json(registry: Registry, config: Any) -> None:
    sampler = build(registry, TaskSampler, config, path="sampler")
    before = sampler.plan(COUNTS, epoch=0, seed=2, total_epochs=3)
    state = json.loads(json.dumps(sampler.state_dict()))
    assert state == sampler.state_dict()
    restored = build(registry, TaskSampler, config, path="sampler")
    restored.load_state_dict(state)
    assert restored.plan(COUNTS, epoch=1, seed=2, total_epochs=3) == sampler.plan(
        COUNTS, epoch=1, seed=2, total_epochs=3
    )
    assert sampler.plan(COUNTS, epoch=0, seed=2, total_epochs=3) == before


def test_main_aux_counts_are_exact_and_proportional() -> None:
    counts = {"main": 10, "a": 30, "b": 10, "c": 0}
    sampler = MainAuxSampler("main", ratio=2.0)
    plan = sampler.plan(counts, epoch=0, seed=1)
    assert Counter(plan) == {"main": 10, "a": 15, "b": 5}
    assert plan[:10] != ["main"] * 10 and "main" in plan[:20]  # mixed, not main first
    # 7 auxiliary batches split 2:1 -> shares 4.67 and 2.33 -> 5 and 2 (largest remainder).
    assert Counter(MainAuxSampler("main").plan({"main": 7, "a": 2, "b": 1}, epoch=0, seed=1)) == {
        "main": 7,
        "a": 5,
        "b": 2,
    }
    assert Counter(MainAuxSampler("main", ratio=0.0).plan(counts, epoch=0, seed=1)) == {"main": 10}
    assert MainAuxSampler("main", ratio=3.0).plan({"main": 4}, epoch=0, seed=1) == ["main"] * 4


def test_main_aux_main_last_puts_all_auxiliary_batches_first() -> None:
    plan = MainAuxSampler("main", ratio=0.5, main_last=True).plan(
        {"main": 20, "a": 8, "b": 4}, epoch=3, seed=1
    )
    assert plan[10:] == ["main"] * 20
    assert Counter(plan[:10]) == {"a": 7, "b": 3}  # 10 * 8/12 = 6.67 -> 7, 10 * 4/12 = 3.33 -> 3
    assert plan[:10] != sorted(plan[:10])  # the auxiliary part is shuffled


def test_apportion_always_adds_up_and_stays_within_one_of_the_exact_share() -> None:
    for total in range(0, 40):
        for sizes in ({"a": 1}, {"a": 3, "b": 3, "c": 3}, {"a": 7, "b": 2, "c": 1}, {"x": 5, "y": 11}):
            parts = apportion(total, sizes)
            assert sum(parts.values()) == total
            whole = sum(sizes.values())
            assert all(abs(parts[k] - total * sizes[k] / whole) < 1 for k in sizes)


def test_main_aux_errors_name_the_key_and_list_the_tasks(registry: Registry) -> None:
    sampler = build(registry, TaskSampler, {"type": "main_aux", "main": "rtee"}, path="sampler")
    with pytest.raises(ConfigurationError, match=r"sampler\.main: main task 'rtee'") as error:
        sampler.plan({"rte": 3, "sst2": 5}, epoch=0, seed=1)
    assert error.value.hint == "did you mean 'rte'? tasks with a 'train' file: rte, sst2"
    with pytest.raises(ConfigurationError, match="missing required key 'main'"):
        build(registry, TaskSampler, "main_aux", path="sampler")
    with pytest.raises(ConfigurationError, match=r"sampler\.ratio: ratio must be at least 0, got -1"):
        build(registry, TaskSampler, {"type": "main_aux", "main": "rte", "ratio": -1}, path="sampler")


def test_steps_must_be_positive(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match=r"sampler\.steps: steps must be at least 1"):
        build(registry, TaskSampler, {"type": "uniform", "steps": 0}, path="sampler")


class Growing(TaskSampler):
    """A stateful sampler whose plans grow by one step per plan() call and per epoch."""

    def __init__(self) -> None:
        self.calls = 0

    def plan(
        self, batch_counts: Mapping[str, int], *, epoch: int, seed: int, total_epochs: int | None = None
    ) -> list[str]:
        self.calls += 1
        return ["a"] * (epoch + self.calls)

    def state_dict(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.calls = state["calls"]


def test_plan_lengths_covers_every_epoch_and_leaves_the_state_alone() -> None:
    sampler = Growing()
    sampler.calls = 10
    assert plan_lengths(sampler, [{"a": 1}] * 3, seed=0, epochs=3) == [11, 13, 15]
    assert sampler.calls == 10
    with pytest.raises(ValueError, match="1 epochs for 3"):
        plan_lengths(sampler, [{"a": 1}], seed=0, epochs=3)
