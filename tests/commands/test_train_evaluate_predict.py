"""`mtdnn train`, `evaluate` and `predict` through click, on the shipped quickstart data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager
from mtdnn.rundir import CHECKSUMS, RunDirectory, sha256

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").rglob("*.jsonnet"))


def _invoke(*args: str, plugins: tuple[str, ...] = ()) -> str:
    runner = CliRunner()
    pm = get_plugin_manager(autoload=False, plugins=plugins)
    result = runner.invoke(make_cli(pm), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _tla_names(config: Path) -> set[str]:
    signature = re.search(r"^function\s*\((.*?)\)\s*(?:\{|\n)", config.read_text(), re.S | re.M)
    return set(re.findall(r"(\w+)\s*=", signature.group(1))) if signature else set()


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_shipped_config_passes_a_dry_run(
    config: Path,
    repo_root: Path,
    shared_data: Path,
    tiny_bert: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Run from elsewhere: every config finds its data through data_root, and nothing through the
    # working directory or a ../shared beside the checkout.
    monkeypatch.chdir(tmp_path)
    default = re.search(r"data_root='([^']*)'", config.read_text())
    assert default is not None, f"{config.name} takes no data_root"
    shared = default.group(1) == "../shared/data"  # else the samples shipped in the checkout
    data_root = shared_data if shared else repo_root / default.group(1)
    values = {"data_root": data_root, "encoder": tiny_bert}
    tlas = [item for name in _tla_names(config) & values.keys() for item in ("-A", f"{name}={values[name]}")]
    if config.parent.name == "squad":  # files without defaults: the shared SQuAD 2.0 subset
        squad = "SQuAD-v2.0-dev-subset/dev-v2.0.first5articles.json"
        tlas += ["-A", f"train={squad}", "-A", f"dev={squad}"]
        tlas += ["--tla-code", "max_length=128", "--tla-code", "doc_stride=32"]  # tiny_bert: 128 positions
    bio = config.parent.name == "bio"  # the biomedical configs need mtdnn-bio
    output = _invoke(
        "train",
        str(config),
        "-s",
        str(repo_root / "runs" / "unused"),
        "--dry-run",
        *tlas,
        plugins=("mtdnn_bio.plugin",) if bio else (),
    )
    assert "dry run passed" in output
    report = json.loads(output[: output.rindex("}") + 1])
    assert report["parameters"] > 0
    for task in report["tasks"].values():
        for split in ("train", "dev"):
            assert task[split]["loss"] > 0
            width = len(task["labels"]) if task["labels"] is not None else 1  # 1: regression (STS-B)
            if config.parent.name == "pretrain":
                width = 30522  # masked-LM: tiny_bert's vocabulary
            if config.parent.name == "squad":
                width = 2  # a start and an end score per token
            assert task[split]["logits"][-1] == width  # [B, labels]; [B, words, labels] for tagging
    assert not (repo_root / "runs" / "unused").exists()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "quickstart"
    output = _invoke(
        "train",
        str(repo_root / "configs" / "quickstart.jsonnet"),
        "-s",
        str(run_dir),
        "-A",
        f"encoder={tiny_bert}",
        "-A",
        f"data_root={repo_root / 'data' / 'quickstart'}",
        "--tla-code",
        "epochs=1",
    )
    assert "best validation score" in output
    assert "removed the checkpoints (" in output and "no longer needed to resume" in output
    return run_dir


def test_train_writes_the_run_directory(trained_run: Path) -> None:
    config = json.loads((trained_run / "config.json").read_text())
    assert config["trainer"]["epochs"] == 1
    assert json.loads((trained_run / "labels.json").read_text())["rte"] == ["entailment", "not_entailment"]
    plugins = json.loads((trained_run / "plugins.json").read_text())
    assert "mtdnn.builtin.components" in {plugin["name"] for plugin in plugins["plugins"]}
    [line] = (trained_run / "metrics.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert set(record["dev"]) == {"mrpc", "rte", "sst2"}
    assert 0.0 <= record["dev"]["mrpc"]["f1"] <= 1.0
    assert (trained_run / "model" / "encoder" / "config.json").is_file()
    assert (trained_run / "model" / "heads.safetensors").is_file()
    assert not (trained_run / "checkpoints").exists()  # removed at the end; the best model stays


def test_evaluate_reproduces_the_training_metrics(trained_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    table = _invoke("evaluate", str(trained_run), "--output-json", str(out))
    assert table.splitlines()[0].split() == ["task", "accuracy", "f1"]
    evaluated = json.loads(out.read_text())
    trained = json.loads((trained_run / "metrics.jsonl").read_text().splitlines()[-1])["dev"]
    assert evaluated.keys() == trained.keys()
    for task, scores in trained.items():
        for name, value in scores.items():
            assert evaluated[task][name] == pytest.approx(value, abs=1e-9)


def test_evaluate_one_task_on_another_file(trained_run: Path, repo_root: Path) -> None:
    data = repo_root / "data" / "quickstart" / "sst2" / "train.tsv"
    table = _invoke("evaluate", str(trained_run), "--task", "sst2", "--data", str(data))
    assert [line.split()[0] for line in table.splitlines()] == ["task", "----", "sst2"]
    runner = CliRunner()
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["evaluate", str(trained_run), "--data", str(data)]
    )
    assert result.exit_code == 1
    assert "--data needs exactly one --task" in result.output


def test_predict_raw_text_pairs_from_tsv_and_jsonl(trained_run: Path, tmp_path: Path) -> None:
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("A man is eating.\tSomeone eats food.\nThe sky is green.\tThe sky is blue.\n")
    lines = _invoke("predict", str(trained_run), "--task", "rte", str(tsv)).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == ["1", "2"]
    for record in records:
        assert record["label"] in {"entailment", "not_entailment"}
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        best = max(record["probabilities"], key=record["probabilities"].get)
        assert record["label"] == best
    jsonl = tmp_path / "sentences.jsonl"
    jsonl.write_text(json.dumps({"id": "x1", "text": "a wonderful, moving film"}) + "\n")
    out = tmp_path / "predictions.jsonl"
    _invoke("predict", str(trained_run), "--task", "sst2", str(jsonl), "-o", str(out))
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["id"] == "x1" and set(record["probabilities"]) == {"0", "1"}


def test_predict_reports_malformed_input_with_file_and_line(trained_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"txt": "oops"}\n')
    runner = CliRunner()
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["predict", str(trained_run), "--task", "sst2", str(bad)],
    )
    assert result.exit_code == 1
    assert f"{bad}:2: missing 'text'" in result.output
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["predict", str(trained_run), "--task", "qqp", str(bad)]
    )
    assert "the run has no task 'qqp'" in result.output


def test_config_errors_are_reported_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.jsonnet"
    config.write_text("{ encoder: { type: 'hf', model: 'x' }, tasks: {}, trainr: {} }")
    runner = CliRunner()
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["train", str(config), "-s", str(tmp_path / "r")]
    )
    assert result.exit_code == 1
    assert "unknown top-level key 'trainr'" in result.output
    assert "Traceback" not in result.output
    broken = tmp_path / "broken.jsonnet"
    broken.write_text("{\n  a: 1,\n  b: ,\n}\n")
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["train", str(broken), "-s", str(tmp_path / "r")]
    )
    assert result.exit_code == 1
    assert f"{broken}:3:" in result.output


def test_dry_run_catches_what_training_would_trip_over(
    tmp_path: Path, repo_root: Path, tiny_bert: Path
) -> None:
    from tests.conftest import quickstart_config

    runner = CliRunner()
    cases = {
        "trainer.validation_metric": {"validation_metric": "rte.f1"},
        "fp16 autocast needs a GPU": {"precision": "fp16", "device": "cpu"},
    }
    for expected, trainer in cases.items():
        config = quickstart_config(repo_root, tiny_bert, **trainer)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        result = runner.invoke(
            make_cli(get_plugin_manager(autoload=False)), ["train", str(path), "-s", "x", "--dry-run"]
        )
        assert result.exit_code == 1 and expected in result.output, result.output
    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["dev"] = str(tmp_path / "missing.tsv")
    path.write_text(json.dumps(config))
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["train", str(path), "-s", "x", "--dry-run"]
    )
    assert result.exit_code == 1 and "missing.tsv: no such file" in result.output


def test_dry_run_checks_the_sampler_against_the_tasks(
    tmp_path: Path, repo_root: Path, tiny_bert: Path
) -> None:
    from tests.conftest import quickstart_config

    config = quickstart_config(repo_root, tiny_bert)
    config["sampler"] = {"type": "main_aux", "main": "rtee"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    runner = CliRunner()
    result = runner.invoke(
        make_cli(get_plugin_manager(autoload=False)), ["train", str(path), "-s", "x", "--dry-run"]
    )
    assert result.exit_code == 1
    assert "sampler.main" in result.output and "'rte'" in result.output


def test_own_data_trains_and_predicts_through_the_task_reader(
    repo_root: Path, tiny_bert: Path, tmp_path: Path
) -> None:
    run = tmp_path / "own"
    config = str(repo_root / "configs" / "own_data.jsonnet")
    data_root = str(repo_root / "data" / "own_data")
    tlas = ["-A", f"data_root={data_root}", "-A", f"encoder={tiny_bert}", "--tla-code", "epochs=1"]
    assert "best validation score" in _invoke("train", config, "-s", str(run), *tlas)
    from mtdnn.rundir import RunDirectory

    labels = RunDirectory(run).read_labels()  # collected from the training files, sorted
    assert labels == {"reviews": ["negative", "positive"], "entailment": ["entailment", "not_entailment"]}
    inputs = tmp_path / "inputs.csv"
    inputs.write_text('id,review\nr1,"a gripping , funny film"\nr2,dull and far too long\n')
    output = _invoke("predict", str(run), str(inputs), "--task", "reviews", "--input-format", "task")
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["id"] for r in records] == ["r1", "r2"]
    assert all(r["label"] in ("negative", "positive") for r in records)
    assert all(set(r["probabilities"]) == {"negative", "positive"} for r in records)


def test_a_run_trained_with_a_missing_plugin_names_the_distribution_to_install(
    trained_run: Path, tmp_path: Path
) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    config = json.loads((run / "config.json").read_text())
    config["tasks"]["rte"]["head"] = {"type": "gone_head"}
    (run / "config.json").write_text(json.dumps(config))
    files = RunDirectory(run)  # as if trained so: the model's record of the config follows it
    manifest = json.loads((files.model / CHECKSUMS).read_text())
    manifest["run"]["config.json"] = sha256(files.config)
    (files.model / CHECKSUMS).write_text(json.dumps(manifest))
    report = json.loads((run / "plugins.json").read_text())
    report["plugins"].append(
        {"name": "gone", "source": "entry_point", "distribution": "mtdnn-gone", "version": "2.0", "hooks": []}
    )
    (run / "plugins.json").write_text(json.dumps(report))
    result = CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), ["evaluate", str(run)])
    assert result.exit_code == 1
    assert "unknown head 'gone_head'" in result.output
    assert "the run was trained with plugins that are not installed here: mtdnn-gone==2.0" in result.output
    assert "hint: pip install 'mtdnn-gone==2.0'" in result.output


def test_a_finished_run_keeps_its_checkpoints_only_when_asked_and_is_not_resumed(
    repo_root: Path, tiny_bert: Path, tmp_path: Path
) -> None:
    config = str(repo_root / "configs" / "quickstart.jsonnet")
    tlas = ["-A", f"encoder={tiny_bert}", "-A", f"data_root={repo_root / 'data' / 'quickstart'}"]
    from mtdnn.api import train
    from mtdnn.hooks import build_registry
    from tests.conftest import quickstart_config

    registry = build_registry(get_plugin_manager(autoload=False))
    settings = quickstart_config(repo_root, tiny_bert, epochs=1, keep_checkpoints_at_end=True)
    train(settings, tmp_path / "kept", registry)
    assert [p.name for p in (tmp_path / "kept" / "checkpoints").iterdir()] == ["step_000000045"]
    finished = quickstart_config(repo_root, tiny_bert, epochs=1)
    assert train(finished, tmp_path / "done", registry).removed_checkpoints > 0
    again = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["train", config, "-s", str(tmp_path / "done"), *tlas, "--tla-code", "epochs=1", "--resume"],
    )
    assert again.exit_code == 1
    assert "nothing to resume" in again.output and "checkpoints were removed at the end" in again.output
