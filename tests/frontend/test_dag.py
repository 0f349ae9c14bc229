"""The hand-built ``DAG``: same IR as ``@ayo.workflow``, golden texts, declared order, errors, runs.

Golden texts name lines of the builders at the top of this file: edit them with care.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.backend import Runtime
from ayo_trace.frontend.dag import DAG, DAGNode, run_graph
from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from ayo_trace.testing import scripted_engines
from tests.util import run_in_new_loop

from . import shapes

QUESTION = "how do generators work"
DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


def join_texts(hits: list[ayo.Hit]) -> str:
    return "\n".join(h.text for h in hits)


def naive_rag() -> DAG:
    dag = DAG("naive_rag")
    question = dag.input("question")
    docs = dag.input("docs")
    dag.ingest(docs, collection="naive")
    hits = dag.search(question, collection="naive", top_k=4)
    best = dag.rerank(question, hits, top_k=2)
    context = dag.python(join_texts, best)
    result = dag.llm(
        shapes.PREAMBLE + "\nContext:\n{context}\nQuestion: {question}\nAnswer:",
        inputs={"context": context, "question": question},
        max_tokens=32,
    )
    dag.output(result)
    return dag


def per_query() -> DAG:
    dag = DAG("per_query")
    question = dag.input("question")
    queries = dag.llm(
        "Rewrite as search queries:\n{question}\n",
        inputs={"question": question},
        parse=ayo.lines,
        max_tokens=32,
    )
    result = dag.map(
        queries, lambda b, q: b.llm("{q} / {question}", {"q": q, "question": question}, max_tokens=8)
    )
    dag.output(result)
    return dag


def declared_order() -> DAG:
    dag = DAG("declared_order")
    question = dag.input("question")
    code_hits = dag.search(question, collection="code", top_k=2)
    doc_hits = dag.search(question, collection="docs", top_k=2)
    code_hits.after(doc_hits)  # the user wants docs searched first: moves before code_hits
    n = dag.python(len, doc_hits, effect=True)
    merged = dag.python(lambda a, b, k: (a + b)[:k], code_hits, doc_hits, 3)
    dag.output(merged)
    dag.order(n, merged)
    return dag


# --- golden texts --------------------------------------------------------------------------------

GOLDEN = {
    "naive_rag": (
        naive_rag,
        """\
graph naive_rag(question, docs):
  %question = input  # test_dag.py:33
  %docs = input  # test_dag.py:34
  %ingest = ingest(%docs, collection='naive')  # test_dag.py:35
  %hits = search(%question, collection='naive', top_k=4) after %ingest  # test_dag.py:36
  %best = rerank(%question, %hits, top_k=2)  # test_dag.py:37
  %context = python(%best) { context = join_texts(best) }  # test_dag.py:38
  %result = llm(f"You answer questions about Python.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", max_tokens=32)  # test_dag.py:39
  return %result""",
    ),
    "per_query": (
        per_query,
        """\
graph per_query(question):
  %question = input  # test_dag.py:50
  %queries = llm(f"Rewrite as search queries:\\n{%question}\\n", max_tokens=32, parse=lines)  # test_dag.py:51
  %result = map(%queries, %question, concurrency=1) {  # test_dag.py:57
      %q = input
      %question = input
      %llm = llm(f"{%q} / {%question}", max_tokens=8)  # test_dag.py:58
      return %llm
  }
  return %result""",
    ),
    "declared_order": (
        declared_order,
        """\
graph declared_order(question):
  %question = input  # test_dag.py:66
  %doc_hits = search(%question, collection='docs', top_k=2)  # test_dag.py:68
  %code_hits = search(%question, collection='code', top_k=2) after %doc_hits  # test_dag.py:67
  %n = python(%doc_hits) { len(doc_hits) } after %code_hits  # test_dag.py:70
  %const = const(3)  # test_dag.py:71
  %merged = python(%code_hits, %doc_hits, %const) { merged = fn(code_hits, doc_hits, const) } after %n  # test_dag.py:71
  return %merged""",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_text(name: str) -> None:
    build, text = GOLDEN[name]
    graph = build().graph()
    graph.lint()
    assert str(graph) == text


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_graph_optimizes_and_round_trips(name: str) -> None:
    graph = GOLDEN[name][0]().graph()
    run_passes(graph, DEFAULT_PASSES).lint()
    assert str(Graph.from_json(graph.to_json(), trusted=True)) == str(graph)


# --- the same IR as the traced workflow ------------------------------------------------------------


def shape_of(graph: Graph) -> str:
    """The printed graph without source locations and python source (what differs by construction)."""
    text = re.sub(r"  # \S+:\d+$", "", str(graph), flags=re.M)
    return re.sub(r" \{ .* \}( after|$)", r" {…}\1", text, flags=re.M)


@ayo.workflow
async def per_query_workflow(question: str) -> list[str]:
    queries = await ayo.llm(f"Rewrite as search queries:\n{question}\n", parse=ayo.lines, max_tokens=32)
    return [await ayo.llm(f"{q} / {question}", max_tokens=8) for q in queries]


@pytest.mark.parametrize(
    ("dag", "workflow", "args"),
    [(naive_rag, shapes.naive_rag, (QUESTION, DOCS)), (per_query, per_query_workflow, (QUESTION,))],
)
def test_dag_prints_like_the_workflow(dag: Any, workflow: Any, args: tuple[Any, ...]) -> None:
    traced = workflow.graph(*args)
    built = dag().graph()
    assert shape_of(built).replace(f"graph {built.name}", "graph") == shape_of(traced).replace(
        f"graph {traced.name}", "graph"
    )


@pytest.mark.parametrize("passes", [(), DEFAULT_PASSES], ids=["traced", "optimized"])
@pytest.mark.parametrize(
    ("dag", "workflow", "args"),
    [(naive_rag, shapes.naive_rag, (QUESTION, DOCS)), (per_query, per_query_workflow, (QUESTION,))],
)
def test_dag_runs_like_the_workflow(dag: Any, workflow: Any, args: tuple[Any, ...], passes: Any) -> None:
    async def main() -> tuple[Any, Any]:
        built = dag()
        inputs = {n.attrs["name"]: a for n, a in zip(built.graph().inputs, args, strict=True)}
        async with Runtime(engines=scripted_engines(), batching=False):
            from_dag = await built.run(inputs, passes=passes)
        async with Runtime(engines=scripted_engines(), batching=False):
            from_workflow = await workflow.eager(*args)
        return from_dag, from_workflow

    from_dag, from_workflow = run_in_new_loop(main)
    assert from_dag == from_workflow


def test_run_graph_checks_the_inputs() -> None:
    graph = naive_rag().graph()
    with pytest.raises(TypeError, match=r"takes inputs \['question', 'docs'\]; missing \['docs'\]"):
        run_in_new_loop(lambda: run_graph(graph, {"question": QUESTION}))


# --- program order and declared order ------------------------------------------------------------


def test_program_order_is_the_creation_order() -> None:
    graph = naive_rag().graph()
    after = {n.name: [a.name for a in n.after] for n in graph.nodes}
    assert after["hits"] == ["ingest"]  # the chain; every other node reads the one before it
    assert all(not after[n] for n in ("question", "docs", "ingest", "best", "context", "result"))


def test_declared_order_is_pruned_when_no_data_flows() -> None:
    optimized = run_passes(declared_order().graph(), DEFAULT_PASSES)
    assert not any(n.after for n in optimized.walk() if n.op not in ("python", "output"))


def test_pruning_keeps_a_write_before_a_read_of_the_same_collection() -> None:
    optimized = run_passes(naive_rag().graph(), DEFAULT_PASSES)
    search = next(n for n in optimized.nodes if n.op == "db_search")
    writes = {n.name for n in optimized.nodes if n.op in ("db_insert", "ingest")}
    assert {a.name for a in search.after} & writes


def test_a_cycle_of_declared_orders_names_the_nodes_and_lines() -> None:
    dag = DAG("cycle")
    q = dag.input("q")
    a = dag.embed(q)
    b = dag.embed(a)
    a.after(b)
    dag.output(b)
    with pytest.raises(ayo.TraceError, match=r"cycle through: a \(test_dag.py:\d+\), b \(test_dag.py:\d+\)"):
        dag.graph()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d, q: d.embed(q).after(q), "inputs are never ordered"),
        (lambda d, q: q.after(d.embed(q)), "inputs are never ordered"),
        (
            lambda d, q: d.embed(q).after(DAG("other").input("x")),
            "only nodes of its own DAG 'bad' can be ordered",
        ),
    ],
)
def test_bad_orders_are_trace_errors(build: Any, message: str) -> None:
    dag = DAG("bad")
    with pytest.raises(ayo.TraceError, match=message) as info:
        build(dag, dag.input("q"))
    assert re.match(r"test_dag.py:\d+: ", str(info.value))


# --- nodes ---------------------------------------------------------------------------------------


def test_node_names_come_from_the_assigned_variable_or_name() -> None:
    dag = DAG("names")
    question = dag.input("question")
    vector = dag.embed(question)
    dag.output(dag.embed(vector, name="again"))
    assert [n.name for n in dag.graph().nodes] == ["question", "vector", "again", "output"]


def test_each_node_is_located_at_the_users_line() -> None:
    dag = DAG("where")
    q = dag.input("q")
    line = q.loc.line if q.loc else 0
    hits = dag.search(q, collection="kb")
    dag.output(hits)
    assert [str(n.loc) for n in dag.graph().nodes[:-1]] == [f"test_dag.py:{line}", f"test_dag.py:{line + 2}"]


def test_template_holes_keep_conversions_specs_and_constants() -> None:
    dag = DAG("template")
    a = dag.input("a")
    node = dag.llm("{n:02d} {a!r:>6} {a} {{braces}}", inputs={"a": a, "n": 7})
    dag.output(node)
    llm = dag.graph().find("node")
    template = llm.attrs["template"]
    assert template.render(["x"]) == "07    'x' x {braces}"
    assert template.prefix == "07 "
    assert [h.arg for h in template.holes] == [0, 0]


def test_python_step_runs_from_its_generated_source() -> None:
    dag = DAG("py")
    a = dag.input("a")
    total = dag.python(lambda x, y, z: x + y + z, a, a, 10)
    dag.output(total)
    node = dag.graph().find("total")
    assert node.attrs["code"].source == "total = fn(a, a, const)"
    assert node.attrs["code"].resolve()(5, 10) == 20


def test_module_level_function_resolves_after_json() -> None:
    graph = Graph.from_json(naive_rag().graph().to_json(), trusted=True)
    code = graph.find("context").attrs["code"]
    assert code.resolve()([ayo.Hit("a", 1.0), ayo.Hit("b", 0.5)]) == "a\nb"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d, q: d.llm("{x}", {"q": q}), r"placeholder \{x\} of the prompt template has no entry"),
        (
            lambda d, q: d.llm("{q}", {"q": q, "k": q}),
            r"inputs= has \['k'\], which the prompt template never uses",
        ),
        (lambda d, q: d.llm("{q.text}", {"q": q}), "must be a plain name"),
        (lambda d, q: d.llm("{q}", {"q": q}, parse="lines"), "parse= takes ayo.lines"),
        (lambda d, q: d.search(q, collection=""), "collection= must be a non-empty str"),
        (lambda d, q: d.search(q, collection="kb", top_k=0), "top_k must be at least 1"),
        (lambda d, q: d.rerank(q, q, top_k=0), "top_k must be an int of at least 1"),
        (lambda d, q: d.input("q"), "already has an input 'q'"),
        (lambda d, q: d.python(run_graph, q), "takes a plain function"),
        (lambda d, q: d.map(q, lambda b, x: b.input("y")), "a map body has no inputs of its own"),
        (lambda d, q: d.map(q, lambda b, x: None), "must return the node"),
        (lambda d, q: d.embed(DAG("other").input("x")), "belongs to DAG 'other'"),
        (lambda d, q: d.graph(), "has no output; call dag.output"),
    ],
)
def test_mistakes_are_trace_errors_naming_the_line(build: Any, message: str) -> None:
    dag = DAG("bad")
    q = dag.input("q")
    with pytest.raises(ayo.TraceError, match=message) as info:
        build(dag, q)
    assert re.match(r"test_dag.py:\d+: ", str(info.value))


def test_map_captures_outer_nodes_through_nested_bodies() -> None:
    dag = DAG("nested")
    rows = dag.input("rows")
    sep = dag.input("sep")

    def row(b: DAG, r: DAGNode) -> DAGNode:
        return b.map(r, lambda c, cell: c.python(str.__add__, cell, sep))

    dag.output(dag.map(rows, row))
    graph = dag.graph()
    outer = graph.find("map")
    assert [a.name for a in outer.args] == ["rows", "sep"]
    inner = outer.attrs["body"].find("map")
    assert [a.name for a in inner.args] == ["r", "sep"]
    assert [n.name for n in inner.attrs["body"].inputs] == ["cell", "sep"]

    async def main() -> Any:
        async with Runtime(engines=scripted_engines(), batching=False):
            return await dag.run(rows=[["a", "b"], ["c"]], sep="!")

    assert run_in_new_loop(main) == [["a!", "b!"], ["c!"]]
