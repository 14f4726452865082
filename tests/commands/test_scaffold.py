"""`mtdnn plugins new` writes plugins that install, pass their own tests and pass `plugins check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager

KINDS = ("head", "loss", "reader", "objective", "metric", "command")
MAIN = "import sys; from mtdnn.cli import main; main(sys.argv[1:])"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), list(args))
    return result.exit_code, result.output


def _run(site: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MTDNN_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


def test_every_kind_installs_passes_its_own_tests_and_the_check(tmp_path: Path) -> None:
    for kind in KINDS:
        code, output = _invoke("plugins", "new", f"demo_{kind}", "--kind", kind, "-o", str(tmp_path))
        assert code == 0, output
        assert f"wrote {tmp_path / ('mtdnn-demo-' + kind)}" in output
    site = tmp_path / "site"
    packages = [str(tmp_path / f"mtdnn-demo-{kind}") for kind in KINDS]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    installed = _run(site, *pip, "--target", str(site), *packages)
    assert installed.returncode == 0, installed.stderr
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
    tests = _run(site, *pytest, "--rootdir", str(tmp_path), *(f"{p}/tests" for p in packages))
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "27 passed" in tests.stdout
    for kind in KINDS:
        checked = _run(site, sys.executable, "-c", MAIN, "plugins", "check", f"demo_{kind}")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        lines = checked.stdout.splitlines()
        assert lines and all(line.startswith("ok    ") for line in lines), checked.stdout
        if kind == "command":
            assert "ok    adds commands: demo_command" in lines
        else:
            assert f"ok    registers: {kind} 'demo_{kind}'" in lines
            assert any(
                line.startswith("ok    dry run of ") and line.endswith("tasks sentiment") for line in lines
            )


def test_new_refuses_bad_and_taken_names_and_never_overwrites(tmp_path: Path) -> None:
    for name, message in (
        ("Bad-Name", "is not a usable plugin name"),
        ("class", "is not a usable plugin name"),
        ("mtdnn_x", "is not a usable plugin name"),
        ("accuracy", "the metric name 'accuracy' is taken by mtdnn.metrics.classification.Accuracy"),
    ):
        code, output = _invoke("plugins", "new", name, "--kind", "metric", "-o", str(tmp_path))
        assert code == 1 and message in output, output
    assert _invoke("plugins", "new", "once", "--kind", "loss", "-o", str(tmp_path))[0] == 0
    marker = tmp_path / "mtdnn-once" / "src" / "mtdnn_once" / "loss.py"
    marker.write_text("# edited by hand\n")
    code, output = _invoke("plugins", "new", "once", "--kind", "head", "-o", str(tmp_path))
    assert code == 1 and "exists; nothing is written over it" in output
    assert marker.read_text() == "# edited by hand\n"


def test_check_reports_an_unknown_plugin() -> None:
    code, output = _invoke("plugins", "check", "no_such_plugin")
    assert code == 1 and "FAIL  no installed plugin 'no_such_plugin'" in output
