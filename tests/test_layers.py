"""The package's imports point one way (STYLE.md): frontend → ir ← passes, backend → ir, and the
driver above them all; no import cycle; no file over about 600 lines. Read from the source, so an
import hidden inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ayo_trace"

# What each layer may import of the package (besides itself). The low modules every layer may use:
LOW = {"errors", "ir", "host", "_concurrency"}
ALLOWED = {
    "ir": {"errors"},
    "errors": set(),
    "host": {"ir", "errors"},
    "_concurrency": set(),
    "frontend": LOW,
    "passes": LOW,
    "backend": LOW,
}


def _modules() -> dict[str, set[str]]:
    """Each module's dotted name → the package modules it imports (top level or inside functions)."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        here = parts if is_pkg else parts[:-1]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - (node.level - 1)] if node.level else []
                target = [*base, *(node.module.split(".") if node.module else [])]
                if target and target[0] == "ayo_trace":
                    deps.add(".".join(target))
                    deps.update(".".join([*target, a.name]) for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("ayo_trace"))
        out[".".join(parts)] = deps
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _resolve(dep: str, modules: dict[str, set[str]]) -> str | None:
    """The module a dotted import names (``ayo_trace.ir.graph.Graph`` → ``ayo_trace.ir.graph``)."""
    while dep and dep not in modules:
        dep = dep.rpartition(".")[0]
    return dep or None


def test_layers_import_only_downwards() -> None:
    modules = _modules()
    wrong = []
    for module, deps in modules.items():
        layer = _layer(module)
        if layer not in ALLOWED:
            continue  # the package root, the driver, the demo, testing: above every layer
        for dep in deps:
            target = _resolve(dep, modules)
            if target is None:
                continue
            other = _layer(target)
            if other and other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{module} imports {target}")
    assert not sorted(set(wrong)), "\n".join(sorted(set(wrong)))


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of more than one module (the import cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on.add(m)
        for t in graph[m]:
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in on:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            comp = set()
            while True:
                t = stack.pop()
                on.discard(t)
                comp.add(t)
                if t == m:
                    break
            if len(comp) > 1:
                out.append(comp)

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return out


# Import cycles that are known and being removed: none left (issue 16 removed the ir's, issue 14 point
# 8 the frontend compiler's). A new cycle fails; a known one listed here must match what is found.
KNOWN_CYCLES: list[set[str]] = []
# Files over about 600 lines that are known and being split (issue 16), each capped at its size now.
KNOWN_LARGE: dict[str, int] = {}
MAX_LINES = 600


def test_no_new_import_cycle() -> None:
    modules = _modules()
    graph = {m: {t for d in deps if (t := _resolve(d, modules)) and t != m} for m, deps in modules.items()}
    # a module importing its own package's __init__ sees the package's re-exports, not a cycle
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    found = [{m.removeprefix("ayo_trace.") for m in comp} for comp in _strongly_connected(graph)]
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CYCLES)]
    assert not new, f"new import cycles: {new}"
    gone = [sorted(k) for k in KNOWN_CYCLES if not any(c == k for c in found)]
    assert not gone, f"these known cycles changed or are gone, update KNOWN_CYCLES: {gone} (found {found})"


def test_no_file_is_over_the_size_limit() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    big = {f: n for f, n in sizes.items() if n > KNOWN_LARGE.get(f, MAX_LINES)}
    assert not big, big
