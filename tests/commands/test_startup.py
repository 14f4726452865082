"""Commands that need no model import no torch: ``mtdnn --help`` starts in a fraction of a second.

Loading the plugins (built-in and installed) happens before any command runs, so a heavy import in
a plugin module or at the top of a command module would make every command pay for it. These run
the CLI in a fresh interpreter and look at ``sys.modules`` afterwards (no timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

HEAVY = ("torch", "numpy", "transformers", "spacy", "seqeval", "safetensors")

CHILD = """
import contextlib, io, json, os, sys
from mtdnn.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
heavy = [m for m in HEAVY if m in sys.modules]
wait = os.environ.get("OMP_WAIT_POLICY")
print(json.dumps({"code": code, "out": out.getvalue(), "heavy": heavy, "wait": wait}))
"""


def _run(*args: str, **extra_env: str) -> dict[str, object]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("MTDNN_", "OMP_"))}
    env.update(extra_env)
    completed = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{CHILD}", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "args",
    [("--help",), ("--version",), ("train", "--help"), ("predict", "--help"), ("plugins", "--help")],
    ids=lambda args: " ".join(args),
)
def test_commands_that_need_no_model_import_no_heavy_library(args: tuple[str, ...]) -> None:
    result = _run(*args)
    assert result["code"] == 0
    assert result["heavy"] == []


def test_installed_plugins_are_loaded_without_importing_their_components() -> None:
    installed = {entry.name for entry in entry_points(group="mtdnn")}
    if "bio" not in installed:
        pytest.skip("the bio distribution is not installed")
    assert _run("--help")["heavy"] == []  # loading every plugin imports none of their components
    # `plugins` runs every hook (building the registry imports the components, torch with them),
    # so that a plugin failing in one is reported
    report = json.loads(str(_run("plugins", "--json")["out"]))
    bio = next(plugin for plugin in report["plugins"] if plugin["name"] == "bio")
    assert bio["hooks"] == ["mtdnn_jsonnet_paths", "mtdnn_register"]
    assert report["failures"] == []


def test_openmp_threads_wait_passively_unless_the_user_chose_otherwise() -> None:
    # Set before any command imports torch (the test above): two jobs on one machine then share
    # the cores instead of spinning against each other (bench/bench_threads.py).
    assert _run("train", "--help")["wait"] == "PASSIVE"
    assert _run("train", "--help", OMP_WAIT_POLICY="ACTIVE")["wait"] == "ACTIVE"
