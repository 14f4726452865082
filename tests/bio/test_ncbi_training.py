"""A real learning test: MiniLM learns NCBI-disease NER, scored on the real dev set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from seqeval.metrics import f1_score

from mtdnn.api import evaluate_run, load_config, train
from mtdnn.api.tagging import entity_spans
from mtdnn.hooks import get_plugin_manager
from mtdnn.registry import Registry
from mtdnn_bio.readers import IobReader
from tests.conftest import shared_folder

TRAIN_SENTENCES = 1500


def dictionary_baseline(train: list[Any], dev: list[Any]) -> float:
    """Entity F1 of tagging every (lower-cased) disease name seen in training, longest match first."""
    names = {tuple(w.lower() for w in e.words[s:t]) for e in train for _, s, t in entity_spans(e.tags)}
    longest = max(len(name) for name in names)
    predicted = []
    for example in dev:
        words = [w.lower() for w in example.words]
        tags = ["O"] * len(words)
        i = 0
        while i < len(words):
            for size in range(min(longest, len(words) - i), 0, -1):
                if tuple(words[i : i + size]) in names:
                    tags[i : i + size] = ["B-Disease"] + ["I-Disease"] * (size - 1)
                    i += size
                    break
            else:
                i += 1
        predicted.append(tags)
    return float(f1_score([list(e.tags) for e in dev], predicted))


@pytest.mark.slow
def test_minilm_learns_ncbi_disease_well_beyond_a_dictionary_of_its_training_names(
    shared_data: Path, repo_root: Path, minilm_dir: Path, bio_registry: Registry, tmp_path: Path
) -> None:
    """MiniLM, 1,500 training sentences, 2 epochs, scored on all 923 dev sentences.

    Threshold: the model must beat, by 5 points, a dictionary tagger that marks every disease
    name of the same training sentences (0.49 F1), and reach 0.55. An all-O tagger scores 0, so
    only the dictionary is a fair floor: beating it shows the model generalises to names it did
    not see. Measured when written: 0.66 after 2 epochs (0.53 after 1).
    """
    folder = shared_folder(shared_data, "NCBI-disease-IOB")
    config = load_config(
        repo_root / "configs" / "bio" / "ner.jsonnet",
        get_plugin_manager(autoload=False, plugins=["mtdnn_bio.plugin"]),
        tla_str={"data_root": str(shared_data), "encoder": str(minilm_dir)},
        tla_code={"epochs": "2", "batch_size": "16", "lr": "1e-4", "train_limit": str(TRAIN_SENTENCES)},
    )
    config["trainer"]["progress_bar"] = False
    result = train(config, tmp_path / "run", bio_registry)
    f1 = result.state.best_metrics["ncbi"]["f1"]
    reader = IobReader(labels_from=str(folder / "train.tsv"))
    train_examples = list(reader.read(folder / "train.tsv"))[:TRAIN_SENTENCES]
    baseline = dictionary_baseline(train_examples, list(reader.read(folder / "devel.tsv")))
    assert f1 > max(0.55, baseline + 0.05), (f1, baseline)
    # the saved run scores the same on reload, through the evaluate path
    assert evaluate_run(tmp_path / "run", bio_registry)["ncbi"]["f1"] == pytest.approx(f1)
