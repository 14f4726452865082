"""Imports point down the layers: no module imports one of a higher layer, so there are no cycles.

Each package sits in one layer; a module may import its own layer and those below. Heads and
losses share a layer and may not import each other: what both need lives in ``mtdnn.functional``.
"""

from __future__ import annotations

import ast
from pathlib import Path

LAYERS: list[tuple[str, ...]] = [
    (
        "mtdnn.errors",
        "mtdnn.types",
        "mtdnn.registry",
        "mtdnn.hooks",
        "mtdnn.config",
        "mtdnn.functional",
        "mtdnn.dropout",
        "mtdnn.portable",
    ),
    ("mtdnn.encoders", "mtdnn.data", "mtdnn.readers", "mtdnn.metrics", "mtdnn.samplers", "mtdnn.jsonnet"),
    ("mtdnn.heads", "mtdnn.losses"),
    ("mtdnn.model", "mtdnn.task", "mtdnn.rundir"),
    ("mtdnn.training",),
    ("mtdnn.adversarial",),
    ("mtdnn.kinds", "mtdnn.experiment", "mtdnn.archive"),
    ("mtdnn.distill",),  # online teachers rebuild runs (mtdnn.archive)
    ("mtdnn.api", "mtdnn.scaffold"),
    ("mtdnn.export",),  # the server predicts with a run directory too (mtdnn.api.predict)
    ("mtdnn.commands", "mtdnn.cli", "mtdnn.builtin", "mtdnn.plugin_check"),
]
APART = {("mtdnn.heads", "mtdnn.losses"), ("mtdnn.losses", "mtdnn.heads")}


def _package(module: str) -> tuple[str, int] | None:
    """The layer package a module belongs to and its layer (``None`` for the top-level ``mtdnn``)."""
    for layer, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return package, layer
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``mtdnn`` module ``path`` imports, with the line, at module level or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "mtdnn"]


def test_every_package_has_a_layer(repo_root: Path) -> None:
    packages = {
        path.name.removesuffix(".py")
        for path in (repo_root / "mtdnn").iterdir()
        if path.suffix == ".py" or (path / "__init__.py").is_file()  # not templates/, data only
    }
    packages -= {"__init__"}
    unplaced = sorted(name for name in packages if _package(f"mtdnn.{name}") is None)
    assert unplaced == []


def test_imports_point_down_the_layers(repo_root: Path) -> None:
    upward = []
    for path in sorted((repo_root / "mtdnn").rglob("*.py")):
        module = ".".join(path.relative_to(repo_root).with_suffix("").parts).removesuffix(".__init__")
        own = _package(module)
        if own is None:
            continue
        for line, imported in _imports(path):
            other = _package(imported)
            if other is None or other[0] == own[0]:
                continue
            if other[1] > own[1] or (own[0], other[0]) in APART:
                upward.append(f"{path.relative_to(repo_root)}:{line} imports {imported}")
    assert upward == []
