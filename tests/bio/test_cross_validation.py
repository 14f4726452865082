"""k-fold cross-validation over BioBERT's EU-ADR folds: one run per fold, mean and spread, resuming."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn.api.cross_validate import cross_validate, parse_folds
from mtdnn.cli import make_cli
from mtdnn.errors import ConfigurationError
from mtdnn.hooks import build_registry, get_plugin_manager
from tests.conftest import shared_folder


def test_fold_lists_and_ranges() -> None:
    assert parse_folds("1-3") == ["1", "2", "3"]
    assert parse_folds("a, b") == ["a", "b"]
    with pytest.raises(ConfigurationError, match="FIRST-LAST"):
        parse_folds("3-1")


def test_cross_validation_trains_each_fold_and_summarises_their_scores(
    shared_data: Path, repo_root: Path, tiny_bert: Path, tmp_path: Path
) -> None:
    shared_folder(shared_data, "euadr")
    pm = get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"])
    registry = build_registry(pm)
    options = {
        "tla_str": {"corpus": "euadr", "data_root": str(shared_data), "encoder": str(tiny_bert)},
        "tla_code": {"epochs": "1", "max_length": "64"},
    }
    config = repo_root / "configs" / "bio" / "relation_cv.jsonnet"
    result = cross_validate(config, tmp_path / "cv", pm, registry, folds=["1", "2"], **options)
    assert set(result.folds) == {"1", "2"}
    for fold in ("1", "2"):
        run = json.loads((tmp_path / "cv" / f"fold-{fold}" / "config.json").read_text())
        assert run["tasks"]["euadr"]["train"].endswith(f"euadr/{fold}/train.tsv")
        assert run["tasks"]["euadr"]["dev"].endswith(f"euadr/{fold}/test.tsv")
    f1 = [result.folds[fold]["euadr"]["f1"] for fold in ("1", "2")]
    assert result.mean["euadr"]["f1"] == pytest.approx(statistics.fmean(f1))
    assert result.std["euadr"]["f1"] == pytest.approx(statistics.stdev(f1))
    assert set(result.mean["euadr"]) == {"f1", "precision", "recall", "accuracy"}
    saved = json.loads((tmp_path / "cv" / "cross_validation.json").read_text())
    assert saved["folds"] == result.folds
    # finished folds are read back: the CLI only trains fold 3
    outcome = CliRunner().invoke(
        make_cli(pm),
        [
            "cross-validate", str(config), "-s", str(tmp_path / "cv"), "--folds", "1-3",
            "-A", "corpus=euadr", "-A", f"data_root={shared_data}", "-A", f"encoder={tiny_bert}",
            "--tla-code", "epochs=1", "--tla-code", "max_length=64",
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert "mean over 3 folds" in outcome.output
    assert (
        json.loads((tmp_path / "cv" / "cross_validation.json").read_text())["folds"]["1"] == result.folds["1"]
    )
    with pytest.raises(ConfigurationError, match="set by cross-validation"):
        cross_validate(config, tmp_path / "x", pm, registry, folds=["1"], tla_str={"fold": "2"})
