"""A graph file is code (issue 17, point 4): ``Graph.from_json`` refuses code unless trusted, and a
malformed or oversized file raises ``GraphError``, never a bare library error."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.ir import export
from ayo_trace.testing import ScriptedEmbedder

from ..runtime import graphs as G

pytestmark = pytest.mark.anyio


def malicious(marker: Path, module: str = "tests.runtime.graphs") -> str:
    """A graph file whose python node writes ``marker`` when run."""
    graph = json.loads(G.python_chain(lambda x: x, "v = x").to_json())
    for node in graph["graph"]["nodes"]:
        if node["op"] == "python":
            node["attrs"]["code"]["source"] = (
                f"v = __import__('pathlib').Path({str(marker)!r}).write_text('owned')"
            )
            node["attrs"]["code"]["module"] = module
    return json.dumps(graph)


def test_a_graph_file_with_code_is_refused_unless_trusted(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    with pytest.raises(ayo.GraphError, match="a graph file is code"):
        ayo.Graph.from_json(malicious(marker))
    assert not marker.exists()


async def test_a_trusted_graph_file_runs_its_code(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    graph = ayo.Graph.from_json(malicious(marker), trusted=True)
    async with Runtime(engines=[ScriptedEmbedder("embed")]) as rt:
        await rt.run(graph, {"x": 1})
    assert marker.read_text() == "owned"


def test_an_unknown_module_is_refused_before_any_import(tmp_path: Path) -> None:
    with pytest.raises(ayo.GraphError, match="holds code"):
        ayo.Graph.from_json(malicious(tmp_path / "m", module="antigravity"))


def test_a_graph_without_code_loads_untrusted() -> None:
    graph = G.split_prompt()
    assert str(ayo.Graph.from_json(graph.to_json())) == str(graph)


def test_a_huge_source_line_is_refused() -> None:
    doc = json.loads(G.python_chain(lambda x: x, "v = x").to_json())
    for node in doc["graph"]["nodes"]:
        if node["op"] == "python":
            node["attrs"]["code"]["line"] = 10**15
    with pytest.raises(ayo.GraphError, match="source line"):
        ayo.Graph.from_json(json.dumps(doc), trusted=True)
    doc["graph"]["nodes"][0]["loc"] = ["wf.py", 10**15]
    with pytest.raises(ayo.GraphError, match="source line"):
        ayo.Graph.from_json(json.dumps(doc), trusted=True)


def test_an_oversized_file_and_deep_nesting_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_JSON_CHARS", 1000)
    with pytest.raises(ayo.GraphError, match="characters"):
        ayo.Graph.from_json(G.rag().to_json())
    with pytest.raises(ayo.GraphError):
        ayo.Graph.from_json("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        "[]",
        '{"format": "ayo-trace-graph/1"}',
        '{"format": "ayo-trace-graph/1", "graph": {"name": "g", "statics": {}, "nodes": [{"op": "input"}]}}',
        '{"format": "ayo-trace-graph/1", "graph": {"name": "g", "statics": {}, "nodes": '
        '[{"name": "a", "op": "nope", "args": [], "after": [], "attrs": {}, "loc": null, "meta": {}}]}}',
        '{"format": "ayo-trace-graph/1", "graph": {"name": "g", "statics": {}, "nodes": '
        '[{"name": "a", "op": "output", "args": ["b"], "after": [], "attrs": {}, "loc": null, "meta": {}}]}}',
        '{"format": "other"}',
    ],
)
def test_malformed_files_raise_graph_error(text: str) -> None:
    with pytest.raises(ayo.GraphError):
        ayo.Graph.from_json(text)


def _mutations(doc: Any) -> st.SearchStrategy[Any]:
    """The document with one subtree replaced by an arbitrary JSON value."""
    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    values = st.recursive(
        leaves,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=6,
    )
    paths: list[tuple[Any, ...]] = []

    def walk(v: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, (*path, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, (*path, i))

    walk(doc, ())

    def replace(path: tuple[Any, ...], value: Any) -> Any:
        new = json.loads(json.dumps(doc))
        if not path:
            return value
        target = new
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
        return new

    return st.builds(replace, st.sampled_from(paths), values)


RAG_DOC = json.loads(G.rag().to_json())  # with a python node: loaded trusted, to reach its code
SPLIT_DOC = json.loads(G.split_prompt().to_json())  # templates, sampling parameters, chained parts


@settings(max_examples=300, deadline=None)
@given(_mutations(RAG_DOC) | _mutations(SPLIT_DOC), st.booleans())
def test_any_mutated_file_loads_or_raises_graph_error(doc: Any, trusted: bool) -> None:
    with contextlib.suppress(ayo.GraphError):
        ayo.Graph.from_json(json.dumps(doc), trusted=trusted)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("subprocess", "Popen"),
        ("ayo_trace.ir.export", "from_json"),
        ("ayo_trace.ir", "nope"),
    ],
)
def test_a_graph_file_names_only_ayo_trace_classes(module: str, name: str) -> None:
    """A ``class`` value (a task's result holder) resolves only to a class of ayo_trace itself."""
    with pytest.raises(ayo.GraphError):
        export._Decoder(trusted=False)({"__t": "class", "module": module, "name": name})


def test_a_graph_file_keeps_ranges_and_ayo_trace_classes() -> None:
    decode = export._Decoder(trusted=False)
    assert decode(export._enc(range(1, 9, 2))) == range(1, 9, 2)
    assert decode(export._enc(ayo.Hit)) is ayo.Hit
    with pytest.raises(ayo.GraphError):
        decode({"__t": "range", "items": ["1", 2, 3]})
