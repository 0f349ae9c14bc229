"""A ``try`` around a loop that awaits, whose names are read after it (``out`` of ``try: for c in
items: out.append(await ask(c))``), is the loop with the ``try`` inside it and each handler ending
with a ``break`` (``frontend/try_loops.py``): Python keeps what the items before a failing one
did, which a ``try`` node around the loop could not (a graph break). Rewritten where nothing the
handlers catch can be raised outside the parts it puts in ``try`` statements: a header taking
its items (or testing) without running code. Generated over the handler,
the loop's header, its body and where the list is made; eager ≡ traced ≡ optimized on fresh
module copies, a failing call among the items."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import every_pair, fresh_copies_agree

# (the clause, the handler's body, whether it catches ayo's errors only)
HANDLERS = {
    "engine": ("except ayo.EngineError:", ["out.append('failed')"], True),
    "engine_as": (
        "except (ayo.EngineError, ayo.Overloaded) as e:",
        ["out.append(f'failed: {type(e).__name__} after {len(out)}')"],
        True,
    ),
    "returns": ("except ayo.EngineError:", ["return out, 'failed'"], True),
    "reads_item": ("except ayo.EngineError:", ["out.append(f'failed at {c}')"], True),
    "exception": ("except Exception as e:", ["out.append(type(e).__name__)"], False),
    "bare": ("except:", ["out.append('error')"], False),
}
# (the loop's header and first lines: each takes its items, or tests, without running code; the
# first two may raise making the items, made first in a `try` of their own under `except Exception`)
HEADERS = {
    "split": ["for c in q.split():"],
    "enumerate": ["for i, c in enumerate(q.split()):"],
    "range": ["for i in range(3):", "    c = f'{q} {i}'"],
    "literal": ["for c in ['a', 'FAIL', 'b']:"],
    "zip": ["for i, c in zip(range(3), ('x', 'FAIL', 'z')):"],
    "while": ["while len(out) < 3:", "    c = q if len(out) == 1 else str(len(out))"],
    # (slices: of a plain read, made first only under wider handlers; of `sorted`, made first always)
    "split_slice": ["for c in q.split()[:2]:"],
    "sorted_slice": ["for c in sorted(q.split())[::-1]:"],
}
BODIES = {
    "append": ["out.append(await ayo.llm(f'{q} {c}', max_tokens=3))"],
    "two_awaits": [
        "first = await ayo.llm(f'first {c}', max_tokens=3)",
        "out.append(await ayo.llm(f'{first} {q} {c}', max_tokens=3))",
    ],
    "stops": [
        "reply = await ayo.llm(f'{q} {c}', max_tokens=3)",
        "out.append(reply)",
        "if len(out) >= 2:",
        "    break",
    ],
    "skips": ["if c == 'a':", "    continue", "out.append(await ayo.llm(f'{q} {c}', max_tokens=3))"],
}
# (what stands in the `try` before the loop)
FIRST = {
    "list_before": [],
    "list_inside": ["out = []"],
    "awaits": ["plan = await ayo.llm(f'plan {q}', max_tokens=3)", "out.append(plan)"],
}
# (what stands in the `try` after the loop)
THEN = {
    "nothing": [],
    "awaits": ["out.append(await ayo.llm(' '.join(out), max_tokens=3))"],
    "plain": ["out.append(len(out))"],
    "returns": ["return out, 'early'"],
}
CASES = [
    c
    for c in every_pair(HANDLERS, HEADERS, BODIES, FIRST, THEN)
    if not (c[1] == "while" and c[2] == "skips")  # (skipping makes no progress)
]


def traces(handler: str, header: str, body: str, first: str, then: str) -> bool:
    """Whether the case is rewritten (and so traced whole)."""
    if then != "nothing" and body == "stops":
        return False  # (what follows the loop runs after its own `break` too)
    if "returns" in (handler, then) and body in ("stops", "skips"):
        return False  # (a `return` in the `try` of a loop that jumps)
    # (a `try` around what comes first, or around making the items, whose `else` would hold the
    # `return`, whose handler would read the loop's name, which may be unbound there)
    first_try = (
        first == "awaits"
        or header == "sorted_slice"
        or (not HANDLERS[handler][2] and header in ("split", "enumerate", "split_slice"))
    )
    return not (first_try and (then == "returns" or handler == "reads_item"))


def source(handler: str, header: str, body: str, first: str, then: str, finally_: str = "none") -> str:
    clause, handling, _ = HANDLERS[handler]
    loop = [*HEADERS[header], *("    " + b for b in BODIES[body])]
    lines = [
        *(["out = []"] if first != "list_inside" else []),
        "try:",
        *("    " + x for x in [*FIRST[first], *loop, *THEN[then]]),
        clause,
        *("    " + x for x in handling),
        *(["finally:", *("    " + x for x in FINALLY[finally_])] if finally_ != "none" else []),
        "return out, 'done'",
    ]
    return "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(
        f"    {x}\n" for x in lines
    )


QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]
# (a `finally` after the handlers, changing no name and reading none the `try` binds, as the
# tracer takes one: it stays around what the `try` becomes)
FINALLY = {
    "plain": ["print(end='')"],
    "awaits": ["await ayo.llm(f'close {q}', max_tokens=2)"],
}


@pytest.mark.parametrize(
    ("handler", "header", "body", "first", "then"), CASES, ids=["-".join(c) for c in CASES]
)
def test_a_try_around_a_loop_agrees_and_traces_where_nothing_else_can_raise(
    handler: str, header: str, body: str, first: str, then: str, tmp_path: Any
) -> None:
    src = source(handler, header, body, first, then)
    breaks = graph_breaks(load(src, tmp_path).wf.graph("q", []))
    if traces(handler, header, body, first, then):
        assert breaks == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


@pytest.mark.parametrize("finally_", FINALLY)
@pytest.mark.parametrize(
    ("handler", "header", "body", "first", "then"), CASES[::3], ids=["-".join(c) for c in CASES[::3]]
)
def test_a_finally_after_the_handlers_is_kept_around_the_rewritten_try(
    handler: str, header: str, body: str, first: str, then: str, finally_: str, tmp_path: Any
) -> None:
    src = source(handler, header, body, first, then, finally_)
    breaks = graph_breaks(load(src, tmp_path).wf.graph("q", []))
    # (a `return` in a `try` that has a `finally` is a break of the tracer's `try` nodes, rewritten or not)
    if traces(handler, header, body, first, then) and "returns" not in (handler, then):
        assert breaks == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


# (shapes written as people write them: each traces whole)
STYLES = {
    "finally_after_the_handler": [  # (ran as written until the `finally` was kept around the rewrite)
        "out = []",
        "try:",
        "    for c in q.split():",
        "        out.append(await ayo.llm(c, max_tokens=3))",
        "except ayo.EngineError:",
        "    out.append('failed')",
        "finally:",
        "    out.append('end')",
        "return out",
    ],
    "first_words_limit_from_the_question": [  # (the slice's bound raises for one question: caught)
        "notes = []",
        "limit = 2 if 'heap' in q else 'two'",
        "try:",
        "    for word in q.split()[:limit]:",
        "        notes.append(await ayo.llm(f'Define {word}', max_tokens=3))",
        "except (TypeError, ayo.EngineError) as e:",
        "    notes.append(type(e).__name__)",
        "return notes",
    ],
    "dict_by_index": [
        "summaries = {}",
        "try:",
        "    for i, chunk in enumerate(q.split()):",
        "        summaries[i] = await ayo.llm(f'Summarize: {chunk}', max_tokens=3)",
        "except ayo.EngineError as err:",
        "    summaries['error'] = str(err)[:20]",
        "return summaries",
    ],
    "retry_while": [
        "attempts = 0",
        "answer = None",
        "try:",
        "    while answer is None and attempts < 3:",
        "        attempts += 1",
        "        reply = await ayo.llm(f'Attempt {attempts}: {q}', max_tokens=3)",
        "        if reply.strip():",
        "            answer = reply",
        "except ayo.EngineError:",
        "    answer = 'gave up'",
        "return answer, attempts",
    ],
    "context_built_first": [
        "context = ''",
        "try:",
        "    hits = (await ayo.llm(f'find {q}', max_tokens=3)).split()",
        "    for h in hits:",
        "        context += await ayo.llm(f'Extract: {h} {q}', max_tokens=3)",
        "except Exception as e:",
        "    context = context or f'(no context: {type(e).__name__})'",
        "return await ayo.llm(f'{context} Q: {q}', max_tokens=3)",
    ],
    "chain_of_steps": [
        "text = q",
        "done = []",
        "try:",
        "    for step in ['outline', 'draft', 'polish']:",
        "        text = await ayo.llm(f'{step}: {text}', max_tokens=3)",
        "        done.append(step)",
        "except ayo.EngineError:",
        "    pass",
        "return text, done",
    ],
    "judged_after": [
        "results = []",
        "try:",
        "    for word in q.split():",
        "        if len(word) < 3:",
        "            continue",
        "        r = await ayo.llm(f'Define {word}', max_tokens=3)",
        "        results.append((word, r))",
        "    verdict = await ayo.llm(f'Judge {len(results)} answers', max_tokens=3)",
        "except ayo.EngineError as e:",
        "    verdict = f'incomplete after {len(results)}'",
        "return verdict, results",
    ],
    "over_hits": [  # (the list a search hands back: taking its items runs no code)
        "await ayo.ingest(['heap basics', 'FAIL safe sorting', 'lists'], collection='kb')",
        "hits = await ayo.search(q, collection='kb', top_k=3)",
        "summaries = []",
        "try:",
        "    for h in hits:",
        "        summaries.append(await ayo.llm(f'Summarize: {h.text}', max_tokens=3))",
        "except ayo.EngineError:",
        "    summaries.append(f'stopped at {h.text}')",
        "return summaries",
    ],
    "hits_found_inside": [
        "await ayo.ingest(['heap basics', 'FAIL safe sorting', 'lists'], collection='kb')",
        "notes = []",
        "try:",
        "    found = await ayo.search(q, collection='kb', top_k=3)",
        "    for i, h in enumerate(found):",
        "        notes.append(await ayo.llm(f'Note {i}: {h.text} for {q}', max_tokens=3))",
        "except ayo.EngineError:",
        "    notes.append('failed')",
        "return notes",
    ],
    "ideas_logged": [
        "answers = []",
        "try:",
        "    for n in range(3):",
        "        answers.append(await ayo.llm(f'Idea {n} for {q}', max_tokens=3))",
        "except Exception:",
        "    print('idea generation failed')",
        "return answers",
    ],
}


@pytest.mark.parametrize("style", STYLES)
def test_shapes_as_people_write_them_trace_whole_and_agree(style: str, tmp_path: Any) -> None:
    src = "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(
        f"    {x}\n" for x in STYLES[style]
    )
    assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_the_rewritten_lines_keep_their_numbers(tmp_path: Any) -> None:
    src = (
        "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    out = []\n"
        "    try:  # the whole plan\n"
        "        n = 0\n"
        "        # one part at a time\n"
        "        for part in q.split():  # each\n"
        "            n += 1\n"
        "            out.append(await ayo.llm(f'about {part}', max_tokens=3))\n"
        "\n"
        "    except ayo.EngineError as e:\n"
        "        out.append(f'failed after {n}: {e}')\n"
        "    return await ayo.llm(' | '.join(out), max_tokens=3)\n"
    )
    graph = load(src, tmp_path).wf.graph("q", [])
    assert graph_breaks(graph) == []
    lines = sorted({n.loc.line for n in graph.walk() if n.op == "llm"})
    written = src.splitlines()
    assert [written[line - 1].strip()[:10] for line in lines] == ["out.append", "return awa"]
    handled = {n.loc.line for n in graph.walk() if n.op == "python" and "failed after" in str(n.attrs)}
    assert [written[line - 1].strip()[:10] for line in handled] == ["out.append"]
    assert all("failed after" in written[line - 1] for line in handled)


def test_copied_handlers_stand_for_the_written_lines(tmp_path: Any) -> None:
    """A ``try`` around what comes first (it awaits) and one around what follows the loop (it
    awaits) hold copies of the handlers: every node of each copy has the handler's line."""
    src = (
        "import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    out = []\n"
        "    try:\n"
        "        plan = await ayo.llm(f'plan {q}', max_tokens=3)\n"
        "        for part in plan.split():\n"
        "            out.append(await ayo.llm(f'about {part}', max_tokens=3))\n"
        "        out.append(await ayo.llm(' '.join(out), max_tokens=3))\n"
        "    except Exception as e:  # any error\n"
        "        # noted\n"
        "        out.append(f'failed: {type(e).__name__}')\n"
        "        out.append(len(out))\n"
        "    return out\n"
    )
    graph = load(src, tmp_path).wf.graph("q", [])
    assert graph_breaks(graph) == []
    written = src.splitlines()
    calls = sorted({n.loc.line for n in graph.walk() if n.op == "llm"})
    assert [written[line - 1].strip()[:12] for line in calls] == [
        "plan = await",
        "out.append(a",
        "out.append(a",
    ]
    assert calls[1] != calls[2]
    handled = [n.loc.line for n in graph.walk() if n.op == "python" and "failed:" in str(n.attrs)]
    assert len(handled) == 3 and {written[line - 1].strip()[:18] for line in handled} == {
        "out.append(f'faile"
    }
    counted = [n.loc.line for n in graph.walk() if n.op == "python" and "len(out)" in str(n.attrs)]
    assert len(counted) == 3 and {written[line - 1].strip() for line in counted} == {"out.append(len(out))"}
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)


def test_what_the_rewrite_leaves_as_written(tmp_path: Any) -> None:
    """Each shape is a ``try`` node or a break as before: a handler jumping out of an outer loop,
    a header calling the user's code."""
    shapes = {
        "outer_jump": [
            "for d in ['x', 'y']:",
            "    try:",
            "        for c in q.split():",
            "            out.append(await ayo.llm(f'{d} {c}', max_tokens=3))",
            "    except ayo.EngineError:",
            "        continue",
        ],
        "user_header": [
            "try:",
            "    for c in parts(q):",
            "        out.append(await ayo.llm(c, max_tokens=3))",
            "except ayo.EngineError:",
            "    out.append('failed')",
        ],
    }
    for name, lines in shapes.items():
        src = (
            "import ayo_trace as ayo\n\n\ndef parts(q):\n    return q.split()\n\n\n@ayo.workflow\n"
            "async def wf(q, docs):\n    out = []\n"
            + "".join(f"    {x}\n" for x in lines)
            + "    return out\n"
        )
        (tmp_path / name).mkdir()
        graph = load(src, tmp_path / name).wf.graph("q", [])
        assert graph_breaks(graph) != [] or name == "outer_jump", name
        (tmp_path / name / "runs").mkdir()
        fresh_copies_agree(src, tmp_path / name / "runs", QUESTIONS)
