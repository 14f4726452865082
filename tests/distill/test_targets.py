"""Soft-target files: round trip, averaging teachers by hand, refusing wrong labels and missing rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.distill import SoftTargets, TaskTargets, combine_teachers
from mtdnn.errors import DataError
from mtdnn.functional import group_softmax


def _targets() -> SoftTargets:
    torch.manual_seed(0)
    return SoftTargets(
        {
            "rte": TaskTargets(
                task="rte",
                head="ClassificationHead",
                soft_targets="softmax",
                labels=["entailment", "not_entailment"],
                ids=("a", "b", "c"),
                rows=tuple(torch.randn(1, 2) for _ in range(3)),
                teachers=[{"run": "runs/rte-1", "task": "rte", "config_sha256": "x"}],
                gold=(0.0, 1.0, 1.0),
                votes=((0, 1), (1, 1), (0, 0)),
            ),
            "words": TaskTargets(  # ragged rows, as token-level tasks have
                task="words",
                head="TaggingHead",
                soft_targets="softmax",
                labels=["O", "B", "I"],
                ids=("s1", "s2"),
                rows=(torch.randn(4, 3), torch.randn(2, 3)),
                positions="word",
                combine="logits",
            ),
        }
    )


def test_a_targets_file_round_trips(tmp_path: Path) -> None:
    targets = _targets()
    targets.save(tmp_path / "t.safetensors")
    loaded = SoftTargets.load(tmp_path / "t.safetensors")
    assert loaded.tasks.keys() == targets.tasks.keys()
    for name, expected in targets.tasks.items():
        got = loaded.tasks[name]
        assert got.header() == expected.header()
        assert (got.gold, got.votes) == (expected.gold, expected.votes)
        assert all(torch.equal(a, b) for a, b in zip(got.rows, expected.rows, strict=True))
    assert [r.shape for r in loaded.rows("words", ["s2", "s1"])] == [(2, 3), (4, 3)]
    assert not list(tmp_path.glob("*.partial"))


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(DataError, match="not a soft-targets file"):
        SoftTargets.load(tmp_path / "model.safetensors")
    with pytest.raises(DataError, match="no such soft-targets file"):
        SoftTargets.load(tmp_path / "missing.safetensors")


def test_label_order_kind_and_missing_rows_are_refused() -> None:
    targets = _targets()
    assert targets.check("rte", labels=["entailment", "not_entailment"], soft_targets="softmax").task == "rte"
    with pytest.raises(DataError, match=r"not the student's .* in the same order"):
        targets.check("rte", labels=["not_entailment", "entailment"], soft_targets="softmax")
    with pytest.raises(DataError, match="student's head takes 'value'"):
        targets.check("rte", labels=None, soft_targets="value")
    with pytest.raises(DataError, match="no soft targets for task 'mrpc'"):
        targets.check("mrpc", labels=None, soft_targets="softmax")
    assert targets.coverage("rte", ["a", "b", "z", "c"]) == (3, ["z"])
    with pytest.raises(DataError, match="no soft target for row 'z'"):
        targets.rows("rte", ["a", "z"])


def test_teachers_are_averaged_as_distributions_or_as_logits() -> None:
    torch.manual_seed(1)
    one, two = [torch.randn(1, 3) for _ in range(4)], [torch.randn(1, 3) for _ in range(4)]
    by_probs = combine_teachers([one, two], soft_targets="softmax", how="probs", groups=None)
    for got, a, b in zip(by_probs, one, two, strict=True):
        expected = (torch.softmax(a, -1) + torch.softmax(b, -1)) / 2
        torch.testing.assert_close(torch.softmax(got, -1), expected)  # stored as log-probabilities
        torch.testing.assert_close(got.exp().sum(), torch.tensor(1.0))
    by_logits = combine_teachers([one, two], soft_targets="softmax", how="logits", groups=None)
    for got, a, b in zip(by_logits, one, two, strict=True):
        torch.testing.assert_close(got, (a + b) / 2)
    sigmoid = combine_teachers([one, two], soft_targets="sigmoid", how="probs", groups=None)
    for got, a, b in zip(sigmoid, one, two, strict=True):
        torch.testing.assert_close(torch.sigmoid(got), (torch.sigmoid(a) + torch.sigmoid(b)) / 2)
    values = combine_teachers([one, two], soft_targets="value", how="probs", groups=None)
    torch.testing.assert_close(values[0], (one[0] + two[0]) / 2)


def test_ranking_teachers_are_averaged_within_groups() -> None:
    torch.manual_seed(2)
    groups = [0, 0, 0, 1, 1]
    one, two = [torch.randn(1, 1) for _ in groups], [torch.randn(1, 1) for _ in groups]
    got = combine_teachers([one, two], soft_targets="group", how="probs", groups=groups)
    index = torch.tensor(groups)
    expected = (
        group_softmax(torch.cat(one).reshape(-1), index) + group_softmax(torch.cat(two).reshape(-1), index)
    ) / 2
    torch.testing.assert_close(group_softmax(torch.cat(got).reshape(-1), index), expected)
    with pytest.raises(ValueError, match="different numbers of rows"):
        combine_teachers([one, two[:3]], soft_targets="group", how="probs", groups=groups)
