"""The run directory: one module owns its layout, and no other code spells its file names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtdnn.encoders import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.heads import ClassificationHead
from mtdnn.model import MultiTaskModel
from mtdnn.rundir import RunDirectory

LAYOUT = {  # the distinctive names ("model" and "encoder" are common words elsewhere)
    "config.json",
    "plugins.json",
    "labels.json",
    "metrics.jsonl",
    "heads.safetensors",
    "checkpoints",
    "fold_scores.json",
}


def test_the_layout(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    names = [run.config, run.plugins, run.labels, run.metrics, run.model, run.encoder, run.heads]
    assert [path.relative_to(run.path).as_posix() for path in names] == [
        "config.json",
        "plugins.json",
        "labels.json",
        "metrics.jsonl",
        "model",
        "model/encoder",
        "model/heads.safetensors",
    ]
    assert run.checkpoints == run.path / "checkpoints"


def test_run_files_records_and_the_model(tmp_path: Path, tiny_bert: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    with pytest.raises(ConfigurationError, match="is not a run directory"):
        run.read_config()
    assert run.read_records() == [] and run.read_labels() == {} and not run.has_model()
    run.write_run_files({"seed": 1}, {"plugins": []}, {"rte": ["entailment", "not_entailment"]})
    assert run.read_config() == {"seed": 1}
    assert run.read_labels() == {"rte": ["entailment", "not_entailment"]}
    for epoch in (1, 2, 3):
        run.append_record({"epoch": epoch})
    run.truncate_records(keep=2)  # what a resumed run does with the lines after its checkpoint
    assert run.read_records() == [{"epoch": 1}, {"epoch": 2}]

    encoder = HuggingFaceEncoder(str(tiny_bert))
    model = MultiTaskModel(encoder, {"rte": ClassificationHead(encoder.output_dim, 2)})
    run.add_evaluation({"epoch": 3, "best": False}, best=None)  # a record only
    assert not run.has_model() and run.read_records()[-1] == {"epoch": 3, "best": False}
    run.add_evaluation({"epoch": 4, "best": True}, best=model)  # the model, then its record
    assert run.has_model() and not (run.path / "model.tmp").exists()
    heads = load_file(str(run.heads))
    assert all(torch.equal(heads[key], value) for key, value in model.heads.state_dict().items())
    assert (run.encoder / "config.json").is_file()


def test_no_other_code_spells_the_layout(repo_root: Path) -> None:
    spelled = []
    for root in ("mtdnn", "bio/mtdnn_bio", "experiments", "bench"):
        for path in sorted((repo_root / root).rglob("*.py")):
            if path.name == "rundir.py":
                continue
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and node.value in LAYOUT and id(node) not in docstrings:
                    spelled.append(f"{path.relative_to(repo_root)}:{node.lineno} {node.value!r}")
    # The encoders' own folders (Hugging Face's config.json) are not the run directory's.
    spelled = [line for line in spelled if not line.startswith(("mtdnn/encoders/", "bio/mtdnn_bio/spacy"))]
    assert spelled == []
