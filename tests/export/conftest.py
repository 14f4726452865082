"""Trained runs shared by the export tests: the quickstart tasks and a tagging task, on a tiny BERT."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from mtdnn.api import train
from mtdnn.export.onnx import export_onnx
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.registry import Registry
from tests.conftest import quickstart_config

WORDS = [
    "patients",
    "with",
    "asthma",
    "leukemia",
    "colon",
    "cancer",
    "were",
    "treated",
    "today",
    "the",
    "risk",
]


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    """SST-2, MRPC and RTE (64 training examples each, one epoch) on a tiny BERT."""
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {name: {**task, "train_limit": 64} for name, task in config["tasks"].items()}
    folder = tmp_path_factory.mktemp("quick") / "run"
    train(config, folder, build_registry(get_plugin_manager(autoload=False)))
    return folder


def iob_sentences(count: int, seed: int) -> str:
    """Random sentences of 3 to 30 words (disease words tagged), so that long ones need windows."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        lines = []
        previous = "O"
        for _ in range(rng.randint(3, 30)):
            word = rng.choice(WORDS)
            tag = "O"
            if word in {"asthma", "leukemia", "colon", "cancer"}:
                tag = "I-Disease" if previous != "O" and word == "cancer" else "B-Disease"
            lines.append(f"{word}\t{tag}")
            previous = tag
        sentences.append("\n".join(lines))
    return "\n\n".join(sentences) + "\n"


@pytest.fixture(scope="session")
def tagging_run(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    """A tiny BERT tagger with ``max_length`` 12, so that most sentences are cut into windows."""
    folder = tmp_path_factory.mktemp("tagging")
    (folder / "train.tsv").write_text(iob_sentences(80, 1))
    (folder / "dev.tsv").write_text(iob_sentences(30, 2))
    config: dict[str, Any] = {
        "seed": 3,
        "encoder": {"type": "hf", "model": str(tiny_bert)},
        "tasks": {
            "ner": {
                "reader": {"type": "iob", "labels_from": str(folder / "train.tsv")},
                "head": {"type": "tagging", "overlap": 4},
                "loss": {"type": "cross_entropy"},
                "metrics": [{"type": "seqeval"}],
                "train": str(folder / "train.tsv"),
                "dev": str(folder / "dev.tsv"),
                "batch_size": 16,
                "max_length": 12,
            }
        },
        "trainer": {"epochs": 2, "optimizer": {"type": "adamw", "lr": 3e-3}, "progress_bar": False},
    }
    registry = build_registry(get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]))
    train(config, folder / "run", registry)
    return folder / "run"


@pytest.fixture(scope="session")
def export(tmp_path_factory: pytest.TempPathFactory, quick_run: Path) -> Path:
    """The quickstart run exported with an int8 graph (and the fp32 one beside it)."""
    pytest.importorskip("onnxscript", reason="pip install 'mtdnn[onnx]'")
    folder = tmp_path_factory.mktemp("export") / "quick"
    registry = build_registry(get_plugin_manager(autoload=False))
    export_onnx(quick_run, folder, registry, quantize="int8")
    return folder


@pytest.fixture(scope="session")
def tagging_export(tmp_path_factory: pytest.TempPathFactory, tagging_run: Path) -> Path:
    """The tagging run exported (fp32)."""
    pytest.importorskip("onnxscript", reason="pip install 'mtdnn[onnx]'")
    folder = tmp_path_factory.mktemp("export") / "tagging"
    export_onnx(tagging_run, folder, bio_registry())
    return folder


QA = [
    ("Who founded the company?", "The company was founded by Ada Lovelace in London in 1843."),
    ("Where is the river?", "The long river flows through the green valley near the old town."),
    ("What did the cat eat?", "Yesterday the small cat ate a fresh fish from the market stall."),
    ("When did it rain?", "It rained heavily on Tuesday morning, so the game was cancelled."),
]
"""Questions with a context that fits one window of the span run; its long contexts join all four."""


def qa_examples(count: int) -> list[tuple[str, str, str]]:
    """``(question, context, answer)``: every third context is all of :data:`QA`'s, its own last (windows)."""
    examples = []
    for number in range(count):
        question, context = QA[number % len(QA)]
        if number % 3 == 2:
            context = " ".join([*(other for _, other in QA if other != context), context])
        answer = QA[number % len(QA)][1].split()[number % 5 + 1]
        examples.append((question, context, answer))
    return examples


def squad_file(path: Path, examples: list[tuple[str, str, str]]) -> Path:
    """A SQuAD-format file of the examples (each answer at its first occurrence)."""
    paragraphs = [
        {
            "context": context,
            "qas": [
                {
                    "id": f"q{number}",
                    "question": question,
                    "answers": [{"text": answer, "answer_start": context.index(answer)}],
                }
            ],
        }
        for number, (question, context, answer) in enumerate(examples)
    ]
    path.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    return path


@pytest.fixture(scope="session")
def span_run(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    """A tiny BERT span head with ``max_length`` 48 and ``doc_stride`` 8: long contexts need windows."""
    folder = tmp_path_factory.mktemp("span")
    squad_file(folder / "train.json", qa_examples(36))
    squad_file(folder / "dev.json", qa_examples(12))
    config: dict[str, Any] = {
        "seed": 5,
        "encoder": {"type": "hf", "model": str(tiny_bert)},
        "tasks": {
            "squad": {
                "reader": {"type": "squad"},
                "head": {"type": "span", "doc_stride": 8, "max_question_length": 12, "max_answer_length": 6},
                "loss": "span_ce",
                "metrics": [{"type": "squad", "version": "1.1"}],
                "train": str(folder / "train.json"),
                "dev": str(folder / "dev.json"),
                "max_length": 48,
            }
        },
        "trainer": {"epochs": 2, "progress_bar": False, "optimizer": {"type": "adamw", "lr": 3e-3}},
    }
    train(config, folder / "run", build_registry(get_plugin_manager(autoload=False)))
    return folder / "run"


@pytest.fixture(scope="session")
def span_export(tmp_path_factory: pytest.TempPathFactory, span_run: Path) -> Path:
    """The span run exported (fp32)."""
    pytest.importorskip("onnxscript", reason="pip install 'mtdnn[onnx]'")
    folder = tmp_path_factory.mktemp("export") / "span"
    export_onnx(span_run, folder, build_registry(get_plugin_manager(autoload=False)))
    return folder


def bio_registry() -> Registry:
    """The built-in components and the bio plugin's (its ``iob`` reader)."""
    return build_registry(get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]))
