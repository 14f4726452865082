"""``mtdnn export --format onnx`` and predicting from the export with onnxruntime alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime", reason="pip install 'mtdnn[onnx]'")
pytest.importorskip("onnxscript", reason="pip install 'mtdnn[onnx]'")

from mtdnn.api.predict import predict_examples
from mtdnn.archive import load_run
from mtdnn.data import read_examples
from mtdnn.errors import ConfigurationError
from mtdnn.export.manifest import read_manifest
from mtdnn.export.onnx import GRAPH, INT8_GRAPH, REPORT, export_onnx
from mtdnn.export.runtime import ExportedModel
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.types import Example
from tests.export.conftest import bio_registry

BLOCK_TORCH = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (blocked: a deployment image without PyTorch)")
sys.meta_path.insert(0, Block())
from mtdnn.cli import main
sys.argv = ["mtdnn", *sys.argv[1:]]
try:
    main()
finally:
    assert "torch" not in sys.modules
"""


def _predict_without_torch(
    export: Path, inputs: Path, task: str, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``mtdnn predict EXPORT INPUTS --task TASK`` in a Python where importing torch fails."""
    command = [sys.executable, "-c", BLOCK_TORCH, "predict", str(export), str(inputs), "--task", task]
    return subprocess.run(command, capture_output=True, text=True, check=check)


def test_the_parity_report_covers_three_padded_shapes_within_the_tolerance(export: Path) -> None:
    report = json.loads((export / REPORT).read_text())
    parity = report["parity"]
    assert sorted(parity["max_abs_diff"]) == ["1x7", "3x23", "8x64"]  # none is the (2, 16) export example
    for shape in parity["max_abs_diff"].values():
        assert sorted(shape) == ["mrpc", "rte", "sst2"]
        assert all(0.0 <= diff <= 1e-4 for diff in shape.values())
    assert parity["worst"] == max(d for shape in parity["max_abs_diff"].values() for d in shape.values())


def test_the_manifest_describes_each_task_and_the_tokenizer(export: Path, quick_run: Path) -> None:
    manifest = read_manifest(export)
    assert manifest.graph == INT8_GRAPH and manifest.precision == "int8"
    labels = json.loads((quick_run / "labels.json").read_text())
    for name in ("sst2", "mrpc", "rte"):
        task = manifest.tasks[name]
        assert task.labels == labels[name] and task.type == "classification"
        assert task.decoding == {"kind": "label", "scores": "softmax", "choose": "argmax"}
        assert task.pairs is (name != "sst2")  # raw inputs are checked against it
    tokenization = manifest.tokenization
    assert tokenization.has_types and tokenization.padding_side == "right"
    features, first, second = tokenization.layouts[True].build([7, 8], [9])
    assert features["input_ids"] == [101, 7, 8, 102, 9, 102] and (first, second) == (
        1,
        4,
    )  # [CLS] a [SEP] b [SEP]
    assert features["token_type_ids"] == [0, 0, 0, 0, 1, 1]


def test_fp32_export_predicts_what_the_run_directory_predicts(
    export: Path, quick_run: Path, repo_root: Path
) -> None:
    experiment, model = load_run(quick_run, build_registry(get_plugin_manager(autoload=False)))
    runtime = ExportedModel(export, graph=GRAPH)
    for name in ("sst2", "mrpc"):
        task = experiment.tasks[name]
        examples = list(read_examples(task.settings.reader, task.path("dev")))
        expected = predict_examples(experiment, model, examples, task=name, device="cpu")
        actual = runtime.predict(name, examples, batch_size=7)
        assert [r["id"] for r in actual] == [r["id"] for r in expected]
        assert [r["label"] for r in actual] == [r["label"] for r in expected]
        for got, want in zip(actual, expected, strict=True):
            assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def test_int8_is_smaller_and_scored_on_the_dev_sets_beside_fp32(export: Path) -> None:
    report = json.loads((export / REPORT).read_text())
    assert report["sizes"][INT8_GRAPH] < report["sizes"][GRAPH] / 3
    for name in ("sst2", "mrpc", "rte"):
        scores = report["dev"][name]
        assert scores["examples"] == 200
        assert scores["onnx_fp32"] == pytest.approx(scores["pytorch_fp32"], abs=1e-3)
        assert set(scores["onnx_int8"]) == set(scores["onnx_fp32"])


def test_mtdnn_predict_on_an_export_runs_without_torch(export: Path, quick_run: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(
        json.dumps({"id": "a", "text": "a gripping , moving film ."})
        + "\n"
        + json.dumps({"id": "b", "text": "dull and far too long ."})
        + "\n"
    )
    blocked = _predict_without_torch(export, inputs, "sst2")
    from_export = [json.loads(line) for line in blocked.stdout.splitlines()]
    assert [record["id"] for record in from_export] == ["a", "b"]
    in_process = ExportedModel(export).predict(
        "sst2", [Example("a", "a gripping , moving film ."), Example("b", "dull and far too long .")]
    )
    assert from_export == in_process


def test_tagging_export_tags_every_word_as_pytorch_does_across_windows(
    tagging_export: Path, tagging_run: Path
) -> None:
    experiment, model = load_run(tagging_run, bio_registry())
    task = experiment.tasks["ner"]
    examples = list(read_examples(task.settings.reader, task.path("dev")))
    assert max(len(example.words or ()) for example in examples) > 12  # windows are needed
    expected = predict_examples(experiment, model, examples, task="ner", device="cpu")
    actual = ExportedModel(tagging_export).predict("ner", examples)
    assert actual == expected
    report = json.loads((tagging_export / REPORT).read_text())
    assert report["dev"]["ner"]["onnx_fp32"] == report["dev"]["ner"]["pytorch_fp32"]
    assert read_manifest(tagging_export).tasks["ner"].decoding == {"kind": "tagging", "overlap": 4}


def test_tagging_raw_text_through_the_command_without_torch(tagging_export: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "raw.tsv"
    inputs.write_text("patients with colon cancer were treated today.\n")
    blocked = _predict_without_torch(tagging_export, inputs, "ner")
    [record] = [json.loads(line) for line in blocked.stdout.splitlines()]
    assert record["words"][-2:] == ["today", "."]  # spaCy's split of the raw text
    assert len(record["tags"]) == len(record["words"])


def test_span_export_answers_as_pytorch_does_across_windows(span_export: Path, span_run: Path) -> None:
    experiment, model = load_run(span_run, build_registry(get_plugin_manager(autoload=False)))
    task = experiment.tasks["squad"]
    examples = list(read_examples(task.settings.reader, task.path("dev")))
    assert len(task.load("dev", experiment.encoder).features) > len(examples)  # some contexts need windows
    expected = predict_examples(experiment, model, examples, task="squad", device="cpu")
    actual = ExportedModel(span_export).predict("squad", examples, batch_size=5)
    assert [(r["answer"], r["start"]) for r in actual] == [(r["answer"], r["start"]) for r in expected]
    for got, want in zip(actual, expected, strict=True):
        assert [item["text"] for item in got["nbest"]] == [item["text"] for item in want["nbest"]]
        got_p = [item["probability"] for item in got["nbest"]]
        assert got_p == pytest.approx([item["probability"] for item in want["nbest"]], abs=1e-5)
    assert len({r["answer"] for r in expected}) > 1
    report = json.loads((span_export / REPORT).read_text())
    assert report["dev"]["squad"]["onnx_fp32"] == report["dev"]["squad"]["pytorch_fp32"]
    assert read_manifest(span_export).tasks["squad"].decoding == {
        "kind": "span",
        "doc_stride": 8,
        "max_question_length": 12,
        "max_answer_length": 6,
        "n_best": 20,
        "allow_null": False,
        "null_threshold": 0.0,
    }


def test_questions_through_the_command_without_torch(span_export: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "qa.jsonl"
    context = "The company was founded by Ada Lovelace in London in 1843."
    inputs.write_text(json.dumps({"id": "a", "text": "Who founded the company?", "text_b": context}) + "\n")
    blocked = _predict_without_torch(span_export, inputs, "squad")
    [record] = [json.loads(line) for line in blocked.stdout.splitlines()]
    assert context[record["start"] :].startswith(record["answer"]) and record["answer"]
    no_context = tmp_path / "bad.jsonl"
    no_context.write_text(json.dumps({"id": "b", "text": "Who?"}) + "\n")
    refused = _predict_without_torch(span_export, no_context, "squad", check=False)
    assert refused.returncode != 0 and "bad.jsonl:1: the task takes a pair of texts" in refused.stderr


def test_a_failed_parity_check_fails_the_export_and_leaves_no_manifest(
    quick_run: Path, tmp_path: Path
) -> None:
    registry = build_registry(get_plugin_manager(autoload=False))
    with pytest.raises(ConfigurationError, match="differs from PyTorch by up to"):
        export_onnx(quick_run, tmp_path / "strict", registry, tasks=["rte"], tolerance=1e-12, evaluate=False)
    assert (tmp_path / "strict" / REPORT).is_file()
    assert not (tmp_path / "strict" / "export.json").exists()
    with pytest.raises(ConfigurationError, match="is not an export"):
        ExportedModel(tmp_path / "strict")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"tasks": ["nope"]}, "the run has no task 'nope'"),
        ({"tasks": ["rte"], "occupied": True}, "exists and is not an empty directory"),
    ],
)
def test_bad_requests_are_refused_before_any_work(
    quick_run: Path, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    output = tmp_path / "out"
    if arguments.pop("occupied", False):
        output.mkdir()
        (output / "keep.txt").write_text("x")
    with pytest.raises(ConfigurationError, match=message):
        export_onnx(quick_run, output, build_registry(get_plugin_manager(autoload=False)), **arguments)


def test_a_damaged_manifest_is_a_clear_error(export: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    manifest = json.loads((export / "export.json").read_text())
    del manifest["tasks"]["sst2"]["decoding"]
    (broken / "export.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigurationError, match="is malformed"):
        read_manifest(broken)
    manifest["version"] = 99
    (broken / "export.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigurationError, match="this mtdnn reads version 1"):
        read_manifest(broken)
