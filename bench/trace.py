"""How long tracing takes: the first trace of a workflow, a re-trace for a new static signature, and
a call that finds its graph in the cache (the issue's target: under 50 ms after the first call); the
calls of a workflow keeping module state (a history list, a memo dict), which must find their graph
in the cache too; then the same per workflow of the user-written corpora (tests/frontend/corpus and
corpus_control): the median and the worst time to trace a new signature (source already parsed),
against the 50 ms target.

    python bench/trace.py [--repeat N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyio

import ayo_trace as ayo
from ayo_trace.frontend.workflow import Workflow
from tests.frontend import shapes
from tests.frontend.corpus import all_cases
from tests.frontend.test_corpus_control import CASES as CONTROL_CASES
from tests.util import scripted_runtime

HISTORY: list[str] = []
MEMO: dict[str, str] = {}


@ayo.workflow
async def keeps_history(q: str) -> tuple[str, int]:
    """A chat turn that keeps the questions and a memo of the answers at module level."""
    HISTORY.append(q)
    answer = await ayo.llm(f"Earlier: {len(HISTORY)} questions. Q: {q}", max_tokens=4)
    MEMO.setdefault(q, answer)
    return answer, len(MEMO)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    wf = shapes.answer
    t = time.perf_counter()
    wf.graph("q", ["d1", "d2"])
    first = (time.perf_counter() - t) * 1000
    retrace = timed(lambda: (wf._cache.clear(), wf.graph("q", ["d"]))[1], 20)
    cached = timed(lambda: wf.graph("another question", ["x", "y", "z"]), 200)
    print(f"first trace (parse + analyse + compile): {first:8.2f} ms")
    print(f"re-trace, source already parsed:          {statistics.median(retrace):8.2f} ms (median of 20)")
    print(f"cached call (static signature hit):       {statistics.median(cached):8.3f} ms (median of 200)")
    stateful(30)
    corpus(int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 10)


def stateful(calls: int) -> None:
    """``calls`` queries in turn of ``keeps_history`` on the scripted engines: each changes the
    module's list and dict, which must not trace the workflow again."""
    traces = 0
    real = Workflow._trace

    def counted(self: Workflow, bound: object) -> object:
        nonlocal traces
        traces += 1
        return real(self, bound)

    Workflow._trace = counted  # type: ignore[method-assign]
    times: list[float] = []

    async def run() -> None:
        async with scripted_runtime():
            for i in range(calls):
                t = time.perf_counter()
                await keeps_history(f"question {i % 7}")
                times.append((time.perf_counter() - t) * 1000)

    try:
        anyio.run(run)
    finally:
        Workflow._trace = real  # type: ignore[method-assign]
    print(
        f"calls keeping module state:               {statistics.median(times[1:]):8.2f} ms "
        f"(median of {calls - 1} after the first, {traces} trace(s) in {calls} calls)"
    )


def corpus(repeat: int) -> None:
    """Trace every corpus case ``repeat`` times as a new signature (cache cleared, source parsed)."""
    rows = []
    cases = [(c.id, c.wf, c.args, c.kwargs) for c in all_cases()]
    cases += [(f"control.{name}", wf, args, {}) for name, (wf, args) in CONTROL_CASES.items()]
    for name, wf, args, kwargs in cases:
        wf.graph(*args, **kwargs)  # parse the source once; later traces reuse it

        def trace(wf=wf, args=args, kwargs=kwargs) -> None:  # type: ignore[no-untyped-def]
            wf._cache.clear()
            wf.graph(*args, **kwargs)

        times = timed(trace, repeat)
        rows.append((name, statistics.median(times), max(times)))
    width = max(len(r[0]) for r in rows)
    print(f"\ncorpus: {len(rows)} workflows, a new signature traced {repeat} times each (ms)")
    print(f"{'workflow':<{width}}  {'median':>8}  {'worst':>8}")
    for name, median, worst in rows:
        flag = "" if worst < 50 else "  over 50 ms"
        print(f"{name:<{width}}  {median:8.2f}  {worst:8.2f}{flag}")
    medians = [r[1] for r in rows]
    print(
        f"{'all':<{width}}  {statistics.median(medians):8.2f}  {max(r[2] for r in rows):8.2f}"
        f"  ({sum(r[2] >= 50 for r in rows)} over 50 ms at worst)"
    )


if __name__ == "__main__":
    main()
