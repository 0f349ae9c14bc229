"""An import hidden inside a function (or under ``TYPE_CHECKING``) is still an import: the layer and
cycle checks of ``test_layers`` count it (issue 16: "these imports are hidden inside functions"),
and no import inside a function closes a cycle outside the known ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from . import test_layers as layers

SOURCES = {
    "__init__.py": "",
    "low/__init__.py": "",
    "low/base.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .typed import T\n"
        "def f():\n"
        "    from ..high.top import g\n"
        "    return g\n"
    ),
    "low/typed.py": "from .base import f\nT = int\n",
    "high/__init__.py": "",
    "high/top.py": "from ..low.base import f\ndef g():\n    return f\n",
}


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package named like ours, whose only imports hide in a function and under TYPE_CHECKING."""
    root = tmp_path / "ayo_trace"
    for name, text in SOURCES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.setattr(layers, "PACKAGE", root)
    return root


def _graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    graph = {
        m: {t for d in deps if (t := layers._resolve(d, modules)) and t != m} for m, deps in modules.items()
    }
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


@pytest.mark.usefixtures("toy_package")
def test_imports_inside_functions_and_under_type_checking_count() -> None:
    graph = _graph(layers._modules())
    assert graph["ayo_trace.low.base"] == {"ayo_trace.high.top", "ayo_trace.low.typed"}
    cycles = [{m.removeprefix("ayo_trace.") for m in c} for c in layers._strongly_connected(graph)]
    assert sorted(map(sorted, cycles)) == [["high.top", "low.base", "low.typed"]]


def _function_imports() -> list[tuple[str, str]]:
    """``(module, imported module)`` for every import of the package inside a function."""
    modules = layers._modules()
    out = []
    for path in layers.PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(layers.PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        here = parts if path.name == "__init__.py" else parts[:-1]
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level:
                    base = here[: len(here) - (node.level - 1)]
                    target = layers._resolve(
                        ".".join([*base, *(node.module or "").split(".")]).rstrip("."), modules
                    )
                    if target is not None:
                        out.append((".".join(parts), target))
    return out


def test_no_import_inside_a_function_hides_a_cycle_outside_the_known_ones() -> None:
    graph = _graph(layers._modules())
    cycles = [{m.removeprefix("ayo_trace.") for m in c} for c in layers._strongly_connected(graph)]
    hidden = []
    for module, target in _function_imports():
        short = {module.removeprefix("ayo_trace."), target.removeprefix("ayo_trace.")}
        in_cycle = any(short <= c for c in cycles)
        if in_cycle and not any(short <= known for known in layers.KNOWN_CYCLES):
            hidden.append(f"{module} imports {target} inside a function")
    assert not hidden, "\n".join(hidden)
