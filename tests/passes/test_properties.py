"""Properties of the passes over random small traced graphs (hypothesis).

The random graphs mix collection writers (``ingest``) and readers (``search``) on 1-3 collections,
plain and effect ``python`` statements, graph breaks, and maps whose bodies write or read. The
oracle here is independent of ``passes/effects.py``: two statements that touch the same collection,
at least one of them writing, or that are both effects, must stay ordered (the later one reachable
from the earlier one in the final graph, through data, stream and order edges), under every subset
of the default passes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ayo_trace.ir import Graph, Node
from ayo_trace.passes import DEFAULT_PASSES, Pass, run_passes

from .shapes import Trace, tpl


@dataclass(frozen=True)
class Stmt:
    kind: str  # write, read, py, effect, break, llm, map_write, map_read
    collection: str
    uses: tuple[int, ...]  # indices into the values defined so far


@dataclass(frozen=True)
class Effects:
    reads: frozenset[str]
    writes: frozenset[str]
    effect: bool
    uses: frozenset[int] = frozenset()  # values read (indices as in Stmt.uses)
    mutates: frozenset[int] = frozenset()  # values changed in place


KINDS = ("write", "read", "py", "effect", "mutate", "break", "llm", "map_write", "map_read")
IMMUTABLE_KINDS = ("llm", "write", "mutate", "effect")  # str, int or None values


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[Stmt], int]:
    n_coll = draw(st.integers(1, 3))
    colls = ["a", "b", "c"][:n_coll]
    n = draw(st.integers(2, 8))
    stmts = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        uses = tuple(draw(st.lists(st.integers(0, i + 1), min_size=1, max_size=2, unique=True)))
        stmts.append(Stmt(kind, draw(st.sampled_from(colls)), uses))
    live = draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True))
    return stmts, sum(1 << i for i in live)


def build(stmts: list[Stmt], live_mask: int) -> tuple[Graph, dict[str, Effects]]:
    """The traced graph of a random program, and the oracle's effects of each statement by name."""
    t = Trace("random")
    values: list[Node] = [t.input("question"), t.input("docs")]
    oracle: dict[str, Effects] = {}
    for i, s in enumerate(stmts):
        args = [values[u] for u in s.uses]
        name = f"s{i}"
        reads: frozenset[str] = frozenset()
        writes: frozenset[str] = frozenset()
        effect = False
        mutates: frozenset[int] = frozenset()
        if s.kind == "write":
            node = t.ingest(name, args[0], s.collection)
            writes = frozenset({s.collection})
        elif s.kind == "read":
            node = t.search(name, args[0], s.collection)
            reads = frozenset({s.collection})
        elif s.kind == "py":
            src = f"{name} = len({', '.join(a.name for a in args)})"
            node = t.python(name, src, args)
        elif s.kind == "effect":
            node = t.python(name, f"print({', '.join(a.name for a in args)})", args, effect=True)
            effect = True
        elif s.kind == "mutate":
            src = f"{args[0].name}.append({args[-1].name})"
            node = t.python(name, src, args, effect=True)
            effect = True
            first = s.uses[0]
            if first < 2 or stmts[first - 2].kind not in IMMUTABLE_KINDS:
                mutates = frozenset({first})
        elif s.kind == "break":
            node = t.brk(name, f"{name} = await tool({args[0].name})", args[:1], "tool")
            effect = True
        elif s.kind == "llm":
            node = t.llm(name, tpl("Say: ", 0), args[:1], max_tokens=4)
        else:
            coll = s.collection

            def body(
                b: Trace, ins: list[Node], write: bool = s.kind == "map_write", coll: str = coll
            ) -> Node:
                return b.ingest("w", ins[0], coll) if write else b.search("r", ins[0], coll)

            node = t.map(name, values[1], [], "d", body)
            if s.kind == "map_write":
                writes = frozenset({coll})
            else:
                reads = frozenset({coll})
        used = frozenset(s.uses) if s.kind not in ("map_write", "map_read") else frozenset({1})
        oracle[name] = Effects(reads, writes, effect, used, mutates)
        values.append(node)
    outs = [values[i + 2] for i in range(len(stmts)) if live_mask >> i & 1] or [values[-1]]
    result = t.python("result", "result = (" + ", ".join(o.name for o in outs) + ",)", outs)
    return t.output(result), oracle


def reaches(src: Node, dst: Node) -> bool:
    seen, work = set(), [src]
    while work:
        n = work.pop()
        if n is dst:
            return True
        if n not in seen:
            seen.add(n)
            work.extend(n.users)
    return False


def must_order(a: Effects, b: Effects) -> bool:
    if a.effect and b.effect:
        return True
    return bool(a.writes & (b.reads | b.writes)) or bool(a.reads & b.writes)


def value_name(index: int) -> str:
    return ("question", "docs")[index] if index < 2 else f"s{index - 2}"


def readers(final: Graph, stmt: str, values: frozenset[int]) -> list[Node]:
    """The nodes a statement became (itself, or its lowered parts) that read one of ``values``."""
    names = {value_name(v) for v in values}
    group = [n for n in final.nodes if n.name == stmt or n.name.startswith(stmt + "_")]
    return [n for n in group if names & {x.name for x in n.args}]


SUBSETS = [
    tuple(p for p, keep in zip(DEFAULT_PASSES, mask, strict=True) if keep)
    for mask in itertools.product([False, True], repeat=len(DEFAULT_PASSES))
]


def check_order(graph: Graph, final: Graph, oracle: dict[str, Effects]) -> None:
    names = [n.name for n in graph.nodes if n.name in oracle]
    by_name = {n.name: n for n in final.nodes}
    for a, b in itertools.combinations(names, 2):
        ea, eb = oracle[a], oracle[b]
        for reader in readers(final, a, eb.mutates) if b in by_name else []:
            assert reaches(reader, by_name[b]), (
                f"%{b} may change a value before %{reader.name} reads it\n{final}"
            )
        for reader in readers(final, b, ea.mutates) if a in by_name else []:
            assert reaches(by_name[a], reader), (
                f"%{reader.name} may read a value before %{a} changes it\n{final}"
            )
        if not must_order(ea, eb):
            continue
        if a not in by_name or b not in by_name:
            continue  # a dead statement without effects was dropped (checked below)
        assert reaches(by_name[a], by_name[b]), f"%{b} may run before %{a}\n{final}"
    for name, eff in oracle.items():
        if eff.writes or eff.effect:
            assert name in by_name, f"effect %{name} was dropped"
        node = by_name.get(name)
        if node is not None and node.op == "map" and eff.writes:
            assert node.attrs["concurrency"] == 1, f"map %{name} writes, its items must stay in order"


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_pruning_keeps_every_conflicting_order_under_every_subset(program: tuple[list[Stmt], int]) -> None:
    graph, oracle = build(*program)
    graph.lint()
    for subset in SUBSETS:
        check_order(graph, run_passes(graph, subset), oracle)


@settings(max_examples=60, deadline=None, database=None)
@given(programs())
def test_pipeline_is_idempotent_on_random_graphs(program: tuple[list[Stmt], int]) -> None:
    graph, _ = build(*program)
    once = run_passes(graph, DEFAULT_PASSES)
    twice = run_passes(once, DEFAULT_PASSES)
    assert str(twice) == str(once)
    for p in DEFAULT_PASSES:
        assert not p(once.copy()).changed, p.name


@settings(max_examples=40, deadline=None, database=None)
@given(programs(), st.sampled_from(SUBSETS))
def test_run_passes_never_changes_its_input(
    program: tuple[list[Stmt], int], subset: tuple[Pass, ...]
) -> None:
    graph, _ = build(*program)
    text, as_json = str(graph), graph.to_json()
    run_passes(graph, subset)
    assert str(graph) == text
    assert graph.to_json() == as_json
