"""``mtdnn export --format hf``: folders that transformers loads, predicting as ``mtdnn predict`` does."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from mtdnn.api import predict_file, train
from mtdnn.errors import ConfigurationError
from mtdnn.export.graph import check_inherited
from mtdnn.export.hf import REPORT, export_hf
from mtdnn.heads import MaskedLmHead, RankingHead, SanHead, TaggingHead
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.registry import Registry
from tests.conftest import quickstart_config
from tests.export.conftest import QA, bio_registry

TOPICS = {"film": ("film", "movie", "story"), "acting": ("performance", "actor", "cast")}


def _registry() -> Registry:
    return build_registry(get_plugin_manager(autoload=False))


def _sst2_sentences(repo_root: Path, split: str, count: int) -> list[str]:
    rows = list(csv.reader((repo_root / f"data/quickstart/sst2/{split}.tsv").open(), delimiter="\t"))
    return [row[0] for row in rows[1 : count + 1]]


def _own_files(folder: Path, repo_root: Path) -> None:
    """A regression CSV (a score from the sentence's length) and a multi-label one (topic words)."""
    for split, count in (("train", 64), ("dev", 24)):
        sentences = _sst2_sentences(repo_root, split, count)
        with (folder / f"score-{split}.csv").open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["text", "score"])
            writer.writerows([text, min(5.0, len(text.split()) / 5)] for text in sentences)
        with (folder / f"topics-{split}.jsonl").open("w") as stream:
            for text in sentences:
                labels = [topic for topic, words in TOPICS.items() if any(w in text for w in words)]
                stream.write(json.dumps({"text": text, "topics": labels}) + "\n")


@pytest.fixture(scope="module")
def pooled_run(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    """A tiny BERT with ``pooler`` pooling: SST-2, RTE, a regression task and a multi-label one."""
    folder = tmp_path_factory.mktemp("hf-run")
    _own_files(folder, repo_root)
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["encoder"]["pooling"] = "pooler"
    tasks = {name: {**config["tasks"][name], "train_limit": 64} for name in ("sst2", "rte")}
    tasks["score"] = {
        "reader": {"type": "columns", "text": "text", "label": "score", "kind": "regression"},
        "head": {"type": "regression", "normalize": [0, 5]},
        "loss": {"type": "mse", "normalize": [0, 5]},
        "metrics": [{"type": "pearson"}],
        "train": str(folder / "score-train.csv"),
        "dev": str(folder / "score-dev.csv"),
    }
    tasks["topics"] = {
        "reader": {"type": "columns", "text": "text", "label": "topics", "kind": "multilabel"},
        "head": {"type": "multilabel", "threshold": 0.4},
        "loss": {"type": "bce"},
        "metrics": [{"type": "accuracy"}],
        "train": str(folder / "topics-train.jsonl"),
        "dev": str(folder / "topics-dev.jsonl"),
    }
    config["tasks"] = tasks
    train(config, folder / "run", _registry())
    return folder / "run"


@pytest.fixture(scope="module")
def pooled_export(tmp_path_factory: pytest.TempPathFactory, pooled_run: Path) -> Path:
    folder = tmp_path_factory.mktemp("hf-export") / "out"
    export_hf(pooled_run, folder, _registry())
    return folder


def _predict(
    run: Path, registry: Registry, task: str, lines: list[dict[str, Any]], tmp_path: Path
) -> list[Any]:
    raw = tmp_path / f"{task}.jsonl"
    raw.write_text("".join(json.dumps(line) + "\n" for line in lines))
    stream = io.StringIO()
    predict_file(run, registry, task=task, input_path=raw, output=stream, device="cpu")
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_sequence_head_becomes_a_checked_folder_with_its_labels_and_settings(
    pooled_export: Path,
) -> None:
    report = json.loads((pooled_export / REPORT).read_text())
    assert report["models"] == {
        task: "BertForSequenceClassification" for task in ("rte", "score", "sst2", "topics")
    }
    assert set(report["pipelines"].values()) == {"text-classification"}
    assert all(value < 1e-4 for value in report["parity"]["max_abs_diff"].values())
    assert report["parity"]["rows"]["sst2"].startswith("32 rows of ")
    config = json.loads((pooled_export / "sst2" / "config.json").read_text())
    assert config["problem_type"] == "single_label_classification"
    assert config["id2label"] == {"0": "0", "1": "1"}
    topics = json.loads((pooled_export / "topics" / "config.json").read_text())
    assert topics["problem_type"] == "multi_label_classification"
    assert topics["mtdnn"]["threshold"] == 0.4 and topics["mtdnn"]["head"] == "multilabel"
    score = json.loads((pooled_export / "score" / "config.json").read_text())
    assert score["problem_type"] == "regression" and len(score["id2label"]) == 1
    tokenizer = json.loads((pooled_export / "sst2" / "tokenizer_config.json").read_text())
    assert tokenizer["model_max_length"] == 128


def test_the_text_classification_pipeline_predicts_what_mtdnn_predict_does(
    pooled_export: Path, pooled_run: Path, repo_root: Path, tmp_path: Path
) -> None:
    from transformers import pipeline

    registry = _registry()
    sentences = _sst2_sentences(repo_root, "dev", 40)
    ours = _predict(pooled_run, registry, "sst2", [{"text": text} for text in sentences], tmp_path)
    classify = pipeline("text-classification", model=str(pooled_export / "sst2"), device="cpu")
    theirs = classify(sentences, top_k=None)
    for record, scores in zip(ours, theirs, strict=True):
        by_label = {item["label"]: item["score"] for item in scores}
        assert max(by_label, key=by_label.__getitem__) == record["label"]
        for label, probability in record["probabilities"].items():
            assert by_label[label] == pytest.approx(probability, abs=1e-5)
    # pairs: RTE's premise and hypothesis as text and text_pair
    rows = list(csv.reader((repo_root / "data/quickstart/rte/dev.tsv").open(), delimiter="\t"))[1:21]
    pairs = [{"text": row[1], "text_b": row[2]} for row in rows]
    ours = _predict(pooled_run, registry, "rte", pairs, tmp_path)
    classify = pipeline("text-classification", model=str(pooled_export / "rte"), device="cpu")
    inputs = [{"text": pair["text"], "text_pair": pair["text_b"]} for pair in pairs]
    theirs = classify(inputs, top_k=1, truncation=True)  # as mtdnn cuts pairs at max_length
    assert [item[0]["label"] for item in theirs] == [record["label"] for record in ours]


def test_regression_and_multilabel_folders_give_the_values_and_labels_of_mtdnn_predict(
    pooled_export: Path, pooled_run: Path, repo_root: Path, tmp_path: Path
) -> None:
    from transformers import pipeline

    registry = _registry()
    sentences = _sst2_sentences(repo_root, "dev", 24)
    lines = [{"text": text} for text in sentences]
    values = [record["prediction"] for record in _predict(pooled_run, registry, "score", lines, tmp_path)]
    regress = pipeline("text-classification", model=str(pooled_export / "score"), device="cpu")
    scores = [item[0]["score"] for item in regress(sentences, top_k=1, function_to_apply="none")]
    assert scores == pytest.approx(values, abs=1e-4)  # normalize [0, 5] is folded into the weights
    assert max(values) - min(values) > 1e-3  # the values differ, so the comparison means something
    ours = _predict(pooled_run, registry, "topics", lines, tmp_path)
    tag = pipeline("text-classification", model=str(pooled_export / "topics"), device="cpu")
    for record, scores in zip(ours, tag(sentences, top_k=None), strict=True):
        chosen = sorted(item["label"] for item in scores if item["score"] > 0.4)  # config: mtdnn.threshold
        assert chosen == sorted(record["labels"])
        assert {item["label"]: item["score"] for item in scores} == pytest.approx(
            record["probabilities"], abs=1e-5
        )


def test_the_token_classification_pipeline_labels_each_word_as_mtdnn_predict_does(
    tagging_run: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer, pipeline

    export_hf(tagging_run, tmp_path / "out", bio_registry())
    folder = tmp_path / "out" / "ner"
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["BertForTokenClassification"]
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    sentences = [
        block.splitlines() for block in (tagging_run.parent / "dev.tsv").read_text().strip().split("\n\n")
    ]
    words = [[line.split("\t")[0] for line in sentence] for sentence in sentences]
    # sentences that fit one window of max_length 12: mtdnn cuts longer ones into windows, the
    # pipeline cuts them at model_max_length (docs/deployment.md)
    fitting = [
        sentence
        for sentence in words
        if len(tokenizer(sentence, is_split_into_words=True)["input_ids"]) <= 12
    ]
    assert len(fitting) >= 5
    source = tmp_path / "fitting.tsv"
    source.write_text(
        "\n\n".join("\n".join(f"{word}\tO" for word in sentence) for sentence in fitting) + "\n"
    )
    stream = io.StringIO()
    predict_file(
        tagging_run, bio_registry(), task="ner", input_path=source, output=stream, input_format="task"
    )
    ours = [json.loads(line)["tags"] for line in stream.getvalue().splitlines()]
    tag = pipeline("token-classification", model=str(folder), device="cpu")
    compared = 0
    for sentence, tags in zip(fitting, ours, strict=True):
        [tokens] = tag(sentence, is_split_into_words=True, aggregation_strategy="none", ignore_labels=[])
        firsts = {token["start"]: token["entity"] for token in tokens}  # a word's first token starts it
        starts = [sum(len(word) + 1 for word in sentence[:index]) for index in range(len(sentence))]
        assert [firsts[start] for start in starts] == tags
        compared += len(tags)
    assert compared >= 20 and len({tag for tags in ours for tag in tags}) > 1


def test_a_span_folder_answers_as_mtdnn_predict_does(span_run: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    registry = _registry()
    report = export_hf(span_run, tmp_path / "out", registry)
    assert report.models == {"squad": "BertForQuestionAnswering"} and report.pipelines == {"squad": None}
    folder = tmp_path / "out" / "squad"
    settings = json.loads((folder / "config.json").read_text())["mtdnn"]
    assert settings["max_answer_length"] == 6 and settings["allow_null"] is False
    lines = [{"text": question, "text_b": context} for question, context in QA]  # each fits one window
    ours = _predict(span_run, registry, "squad", lines, tmp_path)
    # a user's decoding with transformers alone: the best span of the context within the length
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForQuestionAnswering.from_pretrained(str(folder))
    for (question, context), record in zip(QA, ours, strict=True):
        encoded = tokenizer(question, context, return_offsets_mapping=True, return_tensors="pt")
        assert encoded["input_ids"].shape[1] <= 48
        offsets = encoded.pop("offset_mapping")[0].tolist()
        in_context = torch.tensor([part == 1 for part in encoded.sequence_ids(0)])
        with torch.no_grad():
            output = model(**encoded)
        start = output.start_logits[0].masked_fill(~in_context, -torch.inf)
        end = output.end_logits[0].masked_fill(~in_context, -torch.inf)
        pairs = start[:, None] + end[None, :]
        allowed = torch.triu(torch.ones_like(pairs, dtype=torch.bool)) & ~torch.triu(
            torch.ones_like(pairs, dtype=torch.bool), diagonal=settings["max_answer_length"]
        )
        first, last = divmod(int(pairs.masked_fill(~allowed, -torch.inf).argmax()), pairs.shape[1])
        assert context[offsets[first][0] : offsets[last][1]] == record["answer"]


@pytest.mark.parametrize("family", ["bert", "roberta", "mpnet"])
def test_cls_pooling_with_a_tanh_layer_maps_onto_each_familys_classifier(
    family: str, family_dirs: dict[str, Path], repo_root: Path, tmp_path: Path
) -> None:
    config = quickstart_config(repo_root, family_dirs[family], epochs=1)
    config["tasks"] = {
        "sst2": {
            **config["tasks"]["sst2"],
            "train_limit": 32,
            "head": {"type": "classification", "hidden_dim": 32},
        }
    }
    registry = _registry()
    train(config, tmp_path / "run", registry)
    report = export_hf(tmp_path / "run", tmp_path / "out", registry)
    assert report.parity["sst2"] < 1e-4
    assert report.models["sst2"].endswith("ForSequenceClassification")
    from transformers import pipeline

    sentences = _sst2_sentences(repo_root, "dev", 16)
    ours = _predict(tmp_path / "run", registry, "sst2", [{"text": text} for text in sentences], tmp_path)
    classify = pipeline("text-classification", model=str(tmp_path / "out" / "sst2"), device="cpu")
    for record, scores in zip(ours, classify(sentences, top_k=None), strict=True):
        assert {item["label"]: item["score"] for item in scores} == pytest.approx(
            record["probabilities"], abs=1e-5
        )


def test_heads_without_a_hugging_face_counterpart_are_refused_with_the_reason(
    quick_run: Path, tmp_path: Path
) -> None:
    with pytest.raises(
        ConfigurationError, match=r"pooler \(a tanh layer of width 32\) and then one linear"
    ) as caught:
        export_hf(quick_run, tmp_path / "out", _registry())
    assert caught.value.message.count("BertForSequenceClassification") == 3  # every task, named
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigurationError, match="reasons over them in 5 steps"):
        SanHead(8, 2).export_hf()
    with pytest.raises(ConfigurationError, match="softmax over each group"):
        RankingHead(8, 2).export_hf()
    with pytest.raises(ConfigurationError, match="MaskedLmHead head has no standard Hugging Face"):
        MaskedLmHead.export_hf(object.__new__(MaskedLmHead))

    class ViterbiHead(TaggingHead):
        def decode(self, data, scores):  # type: ignore[no-untyped-def]
            return super().decode(data, scores)

    with pytest.raises(ConfigurationError, match="inherits its export_hf"):
        check_inherited(ViterbiHead, "export_hf")


def test_the_command_exports_a_task_and_refuses_onnx_options(pooled_run: Path, tmp_path: Path) -> None:
    from mtdnn.cli import make_cli

    main = make_cli(get_plugin_manager(autoload=False))
    runner = CliRunner()
    result = runner.invoke(
        main, ["export", str(pooled_run), "-o", str(tmp_path / "a"), "--format", "hf", "--task", "sst2"]
    )
    assert result.exit_code == 0, result.output
    assert "BertForSequenceClassification; load it with pipeline('text-classification'" in result.output
    assert sorted(path.name for path in (tmp_path / "a").iterdir()) == [REPORT, "sst2"]
    result = runner.invoke(
        main, ["export", str(pooled_run), "-o", str(tmp_path / "b"), "--format", "hf", "--quantize", "int8"]
    )
    assert result.exit_code != 0 and "--quantize applies to --format onnx only" in result.output


def test_a_folder_that_computes_otherwise_fails_the_export_and_is_removed(
    pooled_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mtdnn.export.hf as hf

    build = hf.build_model

    def off_by_a_little(*args: Any, **kwargs: Any) -> Any:  # a mapping bug: the bias moves
        model = build(*args, **kwargs)
        with torch.no_grad():
            model.classifier.bias.add_(1e-3)
        return model

    monkeypatch.setattr(hf, "build_model", off_by_a_little)
    with pytest.raises(ConfigurationError, match=r"'sst2' differs from PyTorch by up to 1\.00e-03"):
        export_hf(pooled_run, tmp_path / "out", _registry(), tasks=["sst2"])
    report = json.loads((tmp_path / "out" / REPORT).read_text())
    assert report["parity"]["max_abs_diff"]["sst2"] == pytest.approx(1e-3, rel=1e-3)
    assert not (tmp_path / "out" / "sst2").exists()
