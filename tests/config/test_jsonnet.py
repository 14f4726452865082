"""Tests for :func:`mtdnn.config.evaluate_config` and :func:`mtdnn.config.parse_tla_pairs`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtdnn.config import evaluate_config, parse_tla_pairs
from mtdnn.errors import ConfigurationError

FUNCTION_CONFIG = """\
function(encoder='bert-base-uncased', seed=1, tasks=['sst2']) {
  encoder: { type: 'hf', name: encoder },
  seed: seed,
  tasks: tasks,
}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_plain_object_and_json(tmp_path: Path) -> None:
    assert evaluate_config(write(tmp_path, "a.jsonnet", "{ a: 1 + 1, b: [x * 2 for x in [1, 2]] }")) == {
        "a": 2,
        "b": [2, 4],
    }
    data = {"trainer": {"epochs": 3}, "name": "x"}
    assert evaluate_config(str(write(tmp_path, "b.json", json.dumps(data)))) == data


def test_function_config_uses_defaults(tmp_path: Path) -> None:
    config = evaluate_config(write(tmp_path, "f.jsonnet", FUNCTION_CONFIG))
    assert config == {"encoder": {"type": "hf", "name": "bert-base-uncased"}, "seed": 1, "tasks": ["sst2"]}


def test_tla_str_and_code(tmp_path: Path) -> None:
    config = evaluate_config(
        write(tmp_path, "f.jsonnet", FUNCTION_CONFIG),
        tla_str={"encoder": "roberta-base"},
        tla_code={"seed": "7", "tasks": "['mnli', 'rte']"},
    )
    assert config["encoder"]["name"] == "roberta-base"
    assert config["seed"] == 7
    assert config["tasks"] == ["mnli", "rte"]


def test_tla_str_stays_a_string(tmp_path: Path) -> None:
    config = evaluate_config(write(tmp_path, "f.jsonnet", FUNCTION_CONFIG), tla_str={"seed": "7"})
    assert config["seed"] == "7"


def test_unknown_tla_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="function has no parameter lr") as info:
        evaluate_config(write(tmp_path, "f.jsonnet", FUNCTION_CONFIG), tla_str={"lr": "1"})
    assert "top-level argument names" in (info.value.hint or "")


def test_missing_tla_without_default_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not bound"):
        evaluate_config(write(tmp_path, "f.jsonnet", "function(encoder) { encoder: encoder }"))


def test_tla_to_non_function_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a function"):
        evaluate_config(write(tmp_path, "a.jsonnet", "{ a: 1 }"), tla_code={"seed": "1"})


def test_syntax_error_shows_file_line_col(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.jsonnet", "{\n  a: 1,\n  b: ,\n}\n")
    with pytest.raises(ConfigurationError) as info:
        evaluate_config(path)
    message = str(info.value)
    assert f"{path}:3:6" in message
    assert "static error" in message
    assert "STATIC ERROR" not in message


def test_runtime_error_shows_file_line_col(tmp_path: Path) -> None:
    path = write(tmp_path, "err.jsonnet", "{\n  a: error 'no encoder given',\n}\n")
    with pytest.raises(ConfigurationError) as info:
        evaluate_config(path)
    message = str(info.value)
    assert "runtime error: no encoder given" in message
    assert f"{path}:2:" in message
    assert "During manifestation" not in message


def test_bad_tla_code_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="tla:seed"):
        evaluate_config(write(tmp_path, "f.jsonnet", FUNCTION_CONFIG), tla_code={"seed": "1 +"})


def test_import_from_extra_import_path(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "helpers.libsonnet", "{ head(n):: { type: 'classification', num_layers: n } }")
    configs = tmp_path / "configs"
    configs.mkdir()
    exp = write(configs, "exp.jsonnet", "local h = import 'helpers.libsonnet'; { head: h.head(2) }")
    with pytest.raises(ConfigurationError, match="couldn't open import") as info:
        evaluate_config(exp)
    assert "imports are looked up" in (info.value.hint or "")
    config = evaluate_config(exp, import_paths=[lib])
    assert config == {"head": {"type": "classification", "num_layers": 2}}


def test_later_import_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write(first, "v.libsonnet", "'first'")
    write(second, "v.libsonnet", "'second'")
    exp = tmp_path / "exp" / "e.jsonnet"
    exp.parent.mkdir()
    exp.write_text("{ v: import 'v.libsonnet' }")
    assert evaluate_config(exp, import_paths=[first, second]) == {"v": "second"}


def test_missing_import_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not a directory"):
        evaluate_config(write(tmp_path, "a.jsonnet", "{}"), import_paths=[tmp_path / "nope"])


def test_environment_does_not_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/somewhere")
    with pytest.raises(ConfigurationError, match="undefined external variable: HOME") as info:
        evaluate_config(write(tmp_path, "env.jsonnet", "{ home: std.extVar('HOME') }"))
    assert "environment variables" in (info.value.hint or "")


def test_jsonnet_path_env_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    write(lib, "x.libsonnet", "{}")
    monkeypatch.setenv("JSONNET_PATH", str(lib))
    exp = tmp_path / "exp" / "e.jsonnet"
    exp.parent.mkdir()
    exp.write_text("import 'x.libsonnet'")
    with pytest.raises(ConfigurationError, match="couldn't open import"):
        evaluate_config(exp)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="config file not found"):
        evaluate_config(tmp_path / "missing.jsonnet")


@pytest.mark.parametrize("text", ["[1, 2]", "'x'", "3", "null"])
def test_result_must_be_an_object(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError, match="must evaluate to a JSON object"):
        evaluate_config(write(tmp_path, "a.jsonnet", text))


def test_parse_tla_pairs() -> None:
    assert parse_tla_pairs(["encoder=bert", "expr=a=b", "empty="], option="--tla-str") == {
        "encoder": "bert",
        "expr": "a=b",
        "empty": "",
    }
    assert parse_tla_pairs([], option="-A") == {}


def test_parse_tla_pairs_errors() -> None:
    with pytest.raises(ConfigurationError, match="--tla-code expects NAME=VALUE, got 'seed'"):
        parse_tla_pairs(["seed"], option="--tla-code")
    with pytest.raises(ConfigurationError, match="invalid argument name '1x'"):
        parse_tla_pairs(["1x=2"], option="-A")
    with pytest.raises(ConfigurationError, match="gives 'seed' twice"):
        parse_tla_pairs(["seed=1", "seed=2"], option="-A")
