"""NER end to end on a tiny model: the plugin path, training, CoNLL predictions, raw text, spaCy."""

from __future__ import annotations

import json
import random
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from mtdnn.api import evaluate_run, load_config, predict_file, train
from mtdnn.api.tagging import Tagger, entity_spans
from mtdnn.hooks import build_registry, get_plugin_manager, jsonnet_paths
from mtdnn.readers import Reader
from mtdnn.registry import Registry

DISEASES = [["asthma"], ["leukemia"], ["colon", "cancer"], ["cystic", "fibrosis"], ["gout"]]
TEMPLATES = [
    "patients with {} were treated today .",
    "the risk of {} rises with age .",
    "{} is common in this family .",
    "we studied the genetics of {} .",
]


def _sentences(count: int, seed: int) -> list[list[tuple[str, str]]]:
    """Sentences in which the disease names, and only they, are entities (IOB2)."""
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        template = rng.choice(TEMPLATES).split()
        disease = rng.choice(DISEASES)
        sentence: list[tuple[str, str]] = []
        for word in template:
            if word == "{}":
                sentence += [(part, "B-Disease" if i == 0 else "I-Disease") for i, part in enumerate(disease)]
            else:
                sentence.append((word, "O"))
        result.append(sentence)
    return result


def _write(path: Path, sentences: list[list[tuple[str, str]]]) -> Path:
    path.write_text(
        "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n", encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory: pytest.TempPathFactory, tiny_bert: Path) -> Path:
    """A tiny BERT trained on a synthetic disease corpus, through configs/bio-style settings."""
    folder = tmp_path_factory.mktemp("ner")
    train_file = _write(folder / "train.tsv", _sentences(160, 1))
    dev_file = _write(folder / "devel.tsv", _sentences(40, 2))
    config: dict[str, Any] = {
        "seed": 3,
        "encoder": {"type": "hf", "model": str(tiny_bert)},
        "tasks": {
            "ner": {
                "reader": {"type": "iob", "labels_from": str(train_file)},
                "head": {"type": "tagging"},
                "loss": {"type": "cross_entropy"},
                "metrics": [{"type": "seqeval"}],
                "train": str(train_file),
                "dev": str(dev_file),
                "batch_size": 16,
                "max_length": 32,
            }
        },
        "trainer": {"epochs": 6, "optimizer": {"type": "adamw", "lr": 3e-3}, "progress_bar": False},
    }
    registry = build_registry(get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]))
    train(config, folder / "run", registry)
    return folder / "run"


def test_the_distribution_is_found_through_the_mtdnn_entry_point_group() -> None:
    [entry] = [ep for ep in entry_points(group="mtdnn") if ep.name == "bio"]
    assert entry.value == "mtdnn_bio.plugin"
    registry = build_registry(get_plugin_manager())  # autoload: as a user's installation finds it
    assert registry.resolve(Reader, "iob").__name__ == "IobReader"
    assert any((path / "bio.libsonnet").is_file() for path in jsonnet_paths(get_plugin_manager()))
    [factory] = [ep for ep in entry_points(group="spacy_factories") if ep.name == "mtdnn_ner"]
    assert factory.value == "mtdnn_bio.spacy_component:make_mtdnn_ner"


def test_the_shipped_ner_config_evaluates_with_bio_libsonnet(repo_root: Path) -> None:
    config = load_config(
        repo_root / "configs" / "bio" / "ner.jsonnet", get_plugin_manager(), tla_str={"corpus": "BC5CDR-IOB"}
    )
    task = config["tasks"]["bc5cdr"]
    assert task["reader"] == {
        "type": "iob",
        "scheme": "IOB2",
        "labels_from": "../shared/data/BC5CDR-IOB/train.tsv",
    }
    assert task["head"] == {"type": "tagging"} and task["metrics"] == [{"type": "seqeval"}]
    assert task["test"].endswith("BC5CDR-IOB/test.tsv")


def test_training_learns_the_entities_and_conll_predictions_rescore_to_the_same_f1(
    ner_run: Path, bio_registry: Registry, tmp_path: Path
) -> None:
    from seqeval.metrics import f1_score

    scores = evaluate_run(ner_run, bio_registry, predictions=tmp_path / "predictions")
    assert scores["ner"]["f1"] > 0.9  # the synthetic entities are fully determined by their words
    blocks = (tmp_path / "predictions" / "ner.conll").read_text(encoding="utf-8").strip().split("\n\n")
    assert len(blocks) == 40
    rows = [[line.split(" ") for line in block.splitlines()] for block in blocks]
    assert all(len(row) == 3 for sentence in rows for row in sentence)
    gold = [[row[1] for row in sentence] for sentence in rows]
    predicted = [[row[2] for row in sentence] for sentence in rows]
    assert f1_score(gold, predicted) == pytest.approx(scores["ner"]["f1"])


def test_raw_text_predictions_give_entities_with_character_offsets(
    ner_run: Path, bio_registry: Registry, tmp_path: Path
) -> None:
    text = "Patients with colon cancer were treated today, and the risk of gout rises with age."
    source = tmp_path / "raw.txt"
    source.write_text(text.lower() + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    with output.open("w") as stream:
        assert predict_file(ner_run, bio_registry, task="ner", input_path=source, output=stream) == 1
    [record] = [json.loads(line) for line in output.read_text().splitlines()]
    lowered = text.lower()
    assert record["entities"] == [
        {
            "start": lowered.index("colon"),
            "end": lowered.index(" were"),
            "label": "Disease",
            "text": "colon cancer",
        },
        {"start": lowered.index("gout"), "end": lowered.index(" rises"), "label": "Disease", "text": "gout"},
    ]
    assert record["words"][:4] == ["patients", "with", "colon", "cancer"]
    assert len(record["tags"]) == len(record["words"])


def test_the_spacy_component_sets_doc_ents_from_the_trained_run(ner_run: Path) -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("mtdnn_ner", config={"model": str(ner_run)})
    doc = nlp("the risk of cystic fibrosis rises with age .")
    assert [(ent.text, ent.label_, ent.start_char) for ent in doc.ents] == [
        ("cystic fibrosis", "Disease", 12)
    ]
    docs = list(nlp.pipe(["we studied the genetics of asthma .", "the risk rises with age ."], batch_size=2))
    assert [[ent.text for ent in doc.ents] for doc in docs] == [["asthma"], []]


def test_the_tagger_windows_a_sentence_longer_than_the_encoder(ner_run: Path, bio_registry: Registry) -> None:
    tagger = Tagger(ner_run, bio_registry)
    words = ("patients with asthma were treated today . " * 12).split()  # 84 words, max_length 32
    [tags] = tagger.tag([words])
    assert len(tags) == len(words)
    assert [words[first] for _, first, _ in entity_spans(tags)] == ["asthma"] * 12
