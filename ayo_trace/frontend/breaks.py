"""Graph breaks made visible: each ``break`` node carries its reason and the fix (what to change so
the statement traces whole); ``explain()`` lists them and ``strict=True`` refuses them."""

from __future__ import annotations

from ..ir.graph import Graph, Node

# What to change so a break traces whole, by the start of (or a phrase in) its reason; first match wins.
_FIXES = (
    (
        "nested loop leaves it",
        "set a flag in the nested loop's `else` (or where it returns) and jump on it after the "
        "statement around the nested loop, so the loop traces whole",
    ),
    (
        "before an earlier call's wait",
        "check the arguments before the gather (raising there), or catch the error in the helper, so "
        "the gather traces whole",
    ),
    (
        "lets every other call finish",
        "return what each call found and change the shared object after the gather, or gather with "
        "`return_exceptions=True` (every call then finishes, as the graph runs them), so the gather "
        "traces whole",
    ),
    (
        "task group cancels",
        "return what each task found and change the shared object after the task group, so the "
        "group traces whole",
    ),
    (
        "Python interleaves",
        "change the shared object on one side of the calls' awaits only (after the first, when a "
        "call may fail), or return what each call found and combine them after the gather, so the "
        "gather traces whole",
    ),
    (
        "asyncio.wait_for",
        "for a deadline the graph keeps, give the query one (`await wf.query(...).run(deadline_s=...)` "
        "raises QueryTimeout); a per-call timeout that raises TimeoutError runs eagerly",
    ),
    (
        "a task group used other than",
        "start its tasks with one comprehension (`tasks = [tg.create_task(f(x)) for x in xs]`, their "
        "results read after the group) or with `t = tg.create_task(...)` lines",
    ),
    ("await of", "make it an ayo primitive, a workflow, or an `async def` helper that awaits them"),
    (
        "comprehension that awaits in",
        "await in a statement before the comprehension, then map over the result",
    ),
    ("with a return inside", "return only at the end, or from an `if` (which traces as a cond)"),
    ("for loop that changes", "change outer state only by appending to (or extending) lists"),
    ("for loop unpacking", "iterate over one name and unpack inside the body"),
    ("for loop with", "filter the items first (a comprehension with `if`), then loop without break"),
    ("if with break", "compute the condition in the loop, then break outside the `if`"),
    (
        "handler defines a function with a bare",
        "raise the error by name in that function (`raise err` of `except E as err`), or re-raise it "
        "in the handler itself",
    ),
    ("a `return` in its `finally`", "return after the `try` statement, not from its `finally`"),
    ("`finally` holds a", "set a flag in the `finally` and jump on it after the `try` statement"),
    (
        "could not be rewritten as the loop",
        "put the `try` inside the loop around its awaits (`for x in xs:`, `try: ...`, `except ...: "
        "break`), or loop over a list (a display, `list(...)`, `q.split()`)",
    ),
    (
        "class is known only when",
        "catch a class the module defines or imports (or a tuple of them bound at module level)",
    ),
    (
        "`finally` binds or changes a name",
        "keep the `finally` to code changing no name and reading none the `try` binds (closing, "
        "logging), and bind or change the names after the `try` statement",
    ),
    (
        "with `except*` handlers",
        "catch `ExceptionGroup` (`except ExceptionGroup as eg:`, then `eg.exceptions`), which traces",
    ),
    (
        "try",
        "assign names in the `try` body's last statement only (or again in every handler), "
        "so the `try` traces whole; or let the error propagate",
    ),
    ("while", "await before the loop and at the end of its body, and test the result in the condition"),
    ("with", "enter the context outside the workflow and pass in what it gives"),
    ("async for", "collect the items before the workflow and pass them in"),
)


def graph_breaks(graph: Graph) -> list[Node]:
    """Every ``break`` node of ``graph`` and its bodies, in program order."""
    return [n for n in graph.walk() if n.op == "break"]


def fix_for(reason: str) -> str | None:
    """What to change so that a break with this reason traces whole: the fix of the first key the
    reason starts with, or holds after a space (a key of several words: "a gather whose calls
    Python interleaves"); a construct's name alone ("try", "with") only where the reason starts
    with it (not "a call ... (or with a graph constant)")."""

    def matches(key: str) -> bool:
        return reason.startswith(key) or (" " in key and f" {key}" in reason)

    return next((f for key, f in _FIXES if matches(key)), None)


def describe_break(node: Node) -> str:
    """``file:line: reason; fix: ...`` for a break node."""
    reason = str(node.attrs.get("reason", "graph break"))
    fix = node.attrs.get("fix") or fix_for(reason)
    return f"{node.loc}: {reason}" + (f"; fix: {fix}" if fix else "")
