"""How long tracing takes: the first trace of a workflow, a re-trace for a new static signature, and
a call that finds its graph in the cache (the issue's target: under 50 ms after the first call).

    python bench/trace.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.frontend import shapes


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


if __name__ == "__main__":
    main()
