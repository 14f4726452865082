"""Typed functions behind the CLI commands; tests and scripts call them directly."""

from __future__ import annotations

from mtdnn.api.evaluate import evaluate_run
from mtdnn.api.predict import predict_file
from mtdnn.api.train import DryRunReport, TrainResult, dry_run, load_config, train

__all__ = ["DryRunReport", "TrainResult", "dry_run", "evaluate_run", "load_config", "predict_file", "train"]
