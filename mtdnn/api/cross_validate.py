"""k-fold cross-validation: one run per fold of a config, and the mean and spread of their scores."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mtdnn.api.train import load_config, train
from mtdnn.errors import ConfigurationError
from mtdnn.hooks.manager import MtdnnPluginManager
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory

__all__ = ["CrossValidation", "Selection", "cross_validate", "parse_folds"]

Selection = Literal["last", "best"]
Scores = dict[str, dict[str, float]]
RESULT_FILE = "cross_validation.json"


@dataclass(frozen=True)
class CrossValidation:
    """The scores of every fold and their summary.

    Args:
        folds: Fold name -> task -> metric -> score.
        mean: Task -> metric -> mean over the folds.
        std: Task -> metric -> sample standard deviation over the folds (0 with one fold).
    """

    folds: dict[str, Scores]
    mean: Scores
    std: Scores

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {"folds": self.folds, "mean": self.mean, "std": self.std}


def parse_folds(text: str) -> list[str]:
    """Fold names from ``1-10`` (a range of integers) or ``a,b,c`` (a list).

    Raises:
        ConfigurationError: The text is empty or the range is malformed.
    """
    text = text.strip()
    if "-" in text and "," not in text:
        first, _, last = text.partition("-")
        if not (first.strip().isdigit() and last.strip().isdigit()) or int(first) > int(last):
            raise ConfigurationError(f"folds {text!r}: a range is written FIRST-LAST, e.g. 1-10")
        return [str(number) for number in range(int(first), int(last) + 1)]
    folds = [part.strip() for part in text.split(",") if part.strip()]
    if not folds:
        raise ConfigurationError("no folds given", hint="e.g. --folds 1-10 or --folds a,b,c")
    return folds


def cross_validate(
    config: Path,
    run_dir: Path,
    pm: MtdnnPluginManager,
    registry: Registry,
    *,
    folds: Sequence[str],
    fold_argument: str = "fold",
    select: Selection = "last",
    tla_str: Mapping[str, str] | None = None,
    tla_code: Mapping[str, str] | None = None,
) -> CrossValidation:
    """Train ``config`` once per fold into ``run_dir/fold-NAME`` and summarise the dev scores.

    The config is evaluated with the top-level argument ``fold_argument`` set to each fold's name
    (as a string), so it can point its ``train`` and ``dev`` files at the fold. A fold whose run
    finished earlier is read back, not trained again, so an interrupted cross-validation
    continues where it stopped. The summary is written to ``run_dir/cross_validation.json``.

    Args:
        config: The experiment config (jsonnet or JSON).
        run_dir: The folder for the fold runs and the summary.
        pm: The plugin manager (jsonnet import paths).
        registry: The component registry.
        folds: The fold names, e.g. ``["1", ..., "10"]``.
        fold_argument: The config's top-level argument that names the fold.
        select: ``last``: the scores after the last epoch (nothing is selected on the held-out
            fold, as in BioBERT's cross-validation); ``best``: those of the best epoch.
        tla_str: Other string top-level arguments.
        tla_code: Other code top-level arguments.

    Raises:
        ConfigurationError: No folds, or ``fold_argument`` is also given in ``tla_str`` or ``tla_code``.
    """
    if not folds:
        raise ConfigurationError("cross-validation needs at least one fold")
    strings, codes = dict(tla_str or {}), dict(tla_code or {})
    if fold_argument in strings or fold_argument in codes:
        raise ConfigurationError(
            f"the fold argument {fold_argument!r} is set by cross-validation; do not pass it"
        )
    results: dict[str, Scores] = {}
    for fold in folds:
        fold_dir = run_dir / f"fold-{fold}"
        saved = RunDirectory(fold_dir).fold_scores
        if saved.is_file():
            results[fold] = json.loads(saved.read_text())[select]
            continue
        evaluated = load_config(config, pm, tla_str={**strings, fold_argument: fold}, tla_code=codes)
        result = train(evaluated, fold_dir, registry)
        records = RunDirectory(fold_dir).read_records()
        scores = {"last": records[-1]["dev"] if records else {}, "best": result.state.best_metrics}
        saved.write_text(json.dumps(scores, indent=2) + "\n")
        results[fold] = scores[select]
    summary = _summarise(results)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RESULT_FILE).write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    return summary


def _summarise(results: dict[str, Scores]) -> CrossValidation:
    """Mean and sample standard deviation of every task's metrics over the folds."""
    keys = sorted(
        {(task, name) for scores in results.values() for task, metrics in scores.items() for name in metrics}
    )
    mean: Scores = {}
    std: Scores = {}
    for task, name in keys:
        values = [scores[task][name] for scores in results.values() if name in scores.get(task, {})]
        mean.setdefault(task, {})[name] = statistics.fmean(values)
        std.setdefault(task, {})[name] = statistics.stdev(values) if len(values) > 1 else 0.0
    return CrossValidation(folds=results, mean=mean, std=std)
