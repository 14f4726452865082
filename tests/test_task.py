"""Task settings: a separate training reader (subsampling) leaves the dev set whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtdnn.api.train import load_split
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from mtdnn.task import build_task_settings, training_texts
from tests.conftest import quickstart_config


def test_train_reader_subsamples_training_data_only(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    rte = config["tasks"]["rte"]
    rte["train_reader"] = {"type": "subsample", "reader": rte["reader"], "count": 40, "seed": 3}
    config["tasks"] = {"rte": rte}
    experiment = build_experiment(config, registry)
    assert len(load_split(experiment, "train")["rte"]) == 40
    assert len(load_split(experiment, "dev")["rte"]) == 200  # evaluation stays on the full dev slice


def test_train_reader_must_have_the_same_labels(repo_root: Path, tiny_bert: Path, registry: Registry) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["train_reader"] = {"type": "glue", "task": "mnli"}
    with pytest.raises(ConfigurationError, match="train_reader has labels") as info:
        build_experiment(config, registry)
    assert info.value.path == "tasks.rte.train_reader"


def test_a_configured_label_list_sets_the_ids_and_must_cover_the_gold_labels(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    from mtdnn.errors import DataError

    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"] = {"rte": config["tasks"]["rte"]}
    config["tasks"]["rte"]["labels"] = ["not_entailment", "entailment"]
    experiment = build_experiment(config, registry)
    task = experiment.tasks["rte"]
    assert task.labels == ["not_entailment", "entailment"]
    dev = task.load("dev", experiment.encoder)
    assert dev.targets is not None
    for example, target in zip(dev.examples, dev.targets, strict=True):
        assert task.labels[int(target)] == example.label
    config["tasks"]["rte"]["labels"] = ["entailment", "contradiction"]
    experiment = build_experiment(config, registry)
    with pytest.raises(DataError, match="'not_entailment'"):
        experiment.tasks["rte"].load("dev", experiment.encoder)
    config["tasks"]["rte"]["labels"] = ["a", "a"]
    with pytest.raises(ConfigurationError, match="duplicates"):
        build_experiment(config, registry)


def test_training_texts_read_each_training_file_as_training_does(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    tasks = config["tasks"]
    tasks["rte"]["train_reader"] = {
        "type": "subsample",
        "reader": tasks["rte"]["reader"],
        "count": 2,
        "seed": 3,
    }
    tasks["sst2"]["train_limit"] = 3
    del tasks["mrpc"]["train"]  # an evaluation-only task gives no texts
    settings = {name: build_task_settings(registry, name, params) for name, params in tasks.items()}
    experiment = build_experiment(config, registry)
    expected = []
    for data in load_split(experiment, "train").values():  # in task order, mrpc left out
        for example in data.examples:
            expected += [example.text_a] if example.text_b is None else [example.text_a, example.text_b]
    assert list(training_texts(settings)) == expected
    assert len(expected) == 3 + 2 * 2


def _with_auxiliary_mlm(config: dict[str, Any], **mlm: Any) -> dict[str, Any]:
    config["tasks"]["mlm"] = {
        "reader": {"type": "text"},
        "head": {"type": "mlm"},
        "loss": {"type": "mlm"},
        "metrics": [{"type": "masked_lm"}],
        **mlm,
    }
    return config


def test_texts_from_trains_a_task_on_the_other_tasks_training_texts(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = _with_auxiliary_mlm(quickstart_config(repo_root, tiny_bert), texts_from=["sst2", "rte"])
    config["tasks"]["rte"]["train_limit"] = 5
    experiment = build_experiment(config, registry)
    train = load_split(experiment, "train")
    data = train["mlm"]
    assert data.targets is None
    expected = [e.text_a for e in train["sst2"].examples]
    for example in train["rte"].examples:
        expected += [example.text_a, str(example.text_b)]
    assert [example.text_a for example in data.examples] == expected  # 600 sentences + 5 pairs
    assert "mlm" not in load_split(experiment, "dev")  # no dev file: trained on, never evaluated


@pytest.mark.parametrize(
    ("mlm", "message"),
    [
        ({"texts_from": ["sst2"], "train": "x.txt"}, "replaces the 'train' file"),
        ({"texts_from": []}, "needs at least one task name"),
        ({"texts_from": ["qnli"]}, "'qnli', which is not another task"),
        ({"texts_from": ["mlm"]}, "'mlm', which is not another task"),
    ],
)
def test_texts_from_errors(
    repo_root: Path, tiny_bert: Path, registry: Registry, mlm: dict[str, Any], message: str
) -> None:
    config = _with_auxiliary_mlm(quickstart_config(repo_root, tiny_bert), **mlm)
    with pytest.raises(ConfigurationError, match=message):
        build_experiment(config, registry)


def test_texts_from_a_task_without_training_data_is_refused(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = _with_auxiliary_mlm(quickstart_config(repo_root, tiny_bert), texts_from=["mrpc"])
    del config["tasks"]["mrpc"]["train"]
    with pytest.raises(ConfigurationError, match="has no 'train' file"):
        build_experiment(config, registry)


def test_a_max_length_beyond_the_encoders_positions_is_refused_when_the_task_is_built(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert)  # tiny_bert has 128 positions
    config["tasks"]["rte"]["max_length"] = 128
    build_experiment(config, registry)
    config["tasks"]["rte"]["max_length"] = 129
    with pytest.raises(ConfigurationError, match="max_length 129 is longer than the encoder's 128") as info:
        build_experiment(config, registry)
    assert info.value.path == "tasks.rte.max_length"


def test_a_label_head_without_a_labels_argument_still_names_its_predictions(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    import torch

    from mtdnn.heads.base import Head, LabelHead
    from mtdnn.types import EncoderOutput, HeadOutput, LabelPrediction, TaskBatch

    class FirstToken(LabelHead):
        """A plugin-style head that takes no `labels`."""

        def __init__(self, input_dim: int, num_labels: int) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(input_dim, num_labels)

        def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
            return HeadOutput(logits=self.linear(encoded.hidden[:, 0]))

        def probabilities(self, output: HeadOutput) -> torch.Tensor:
            return torch.softmax(output.logits.float(), dim=-1)

        def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
            return probabilities.argmax(dim=-1)

    registry.add(Head, "first_token_test", FirstToken)
    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["head"] = {"type": "first_token_test"}
    head = build_experiment(config, registry).tasks["rte"].head
    assert head.labels == ["entailment", "not_entailment"]
    record = head.record(LabelPrediction(value=1, probabilities=(0.25, 0.75)), None)  # type: ignore[arg-type]
    probabilities = {"entailment": 0.25, "not_entailment": 0.75}
    assert record == {"label": "not_entailment", "probabilities": probabilities}
