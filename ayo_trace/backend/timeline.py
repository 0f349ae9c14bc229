"""The runtime's timeline: node runs per query and batches per engine, as Chrome trace events.

``Runtime.timeline()`` returns a ``Timeline``; ``save(path)`` writes JSON that Perfetto
(ui.perfetto.dev) and chrome://tracing open. The recorder keeps a bounded number of events, and
names only the threads (queries, engine instances) those events are on: its memory stays flat
however many queries run.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

from ..ir.graph import Node
from .events import current_usage


@dataclasses.dataclass
class Timeline:
    """Chrome trace events (``ph: "X"`` complete events, microseconds) that Perfetto and
    chrome://tracing open: pid 1 holds one thread per query (its nodes), pid 2 one per engine
    instance (its batches, with batch id, size and queue waits)."""

    events: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"traceEvents": self.events, "displayTimeUnit": "ms"}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_json()))
        return path


class Recorder:
    """Bounded event log behind ``Runtime.timeline()``."""

    def __init__(self, size: int) -> None:
        self.t0: float | None = None  # the runtime's start on its event loop's clock (``begin``)
        self.events: deque[dict[str, Any]] = deque(maxlen=size)
        self.enabled = size > 0
        self.size = size
        # Thread ids by name, least recently used first: the events kept are the last ``size``, so
        # the names they are on are among the ``size`` most recently used, and no more are kept.
        self._tids: OrderedDict[tuple[int, str], int] = OrderedDict()
        self._next_tid = 0

    def _tid(self, pid: int, name: str) -> int:
        tid = self._tids.get((pid, name))
        if tid is None:
            self._next_tid += 1
            tid = self._tids[(pid, name)] = self._next_tid
            if len(self._tids) > self.size:
                self._tids.popitem(last=False)
        else:
            self._tids.move_to_end((pid, name))
        return tid

    def begin(self, t: float) -> None:
        """Time ``t`` (the running loop's clock, ``clock.now()``) is the timeline's zero, unless one is set."""
        if self.t0 is None:
            self.t0 = t

    def _us(self, t: float) -> float:
        if self.t0 is None:
            self.t0 = t
        return round((t - self.t0) * 1e6, 1)

    def node(self, query: str, scope: str, node: Node, start: float, end: float, ok: bool) -> None:
        """A node run, recorded from its own task: an LLM node's args get the tokens in and out of
        its ``Usage`` (current there, ``events.current_usage``)."""
        if not self.enabled:
            return
        usage = current_usage()
        args: dict[str, Any] = {"query": query, "scope": scope, "op": node.op, "loc": str(node.loc), "ok": ok}
        if usage is not None and (usage.tokens_in or usage.tokens_out):
            args["tokens_in"], args["tokens_out"] = usage.tokens_in, usage.tokens_out
        self.events.append(
            {
                "name": node.name,
                "cat": node.op,
                "ph": "X",
                "ts": self._us(start),
                "dur": self._us(end) - self._us(start),
                "pid": 1,
                "tid": self._tid(1, query),
                "args": args,
            }
        )

    def batch(
        self, engine: str, key: str, batch_id: int, start: float, end: float, waits: list[float], error: bool
    ) -> None:
        if not self.enabled:
            return
        self.events.append(
            {
                "name": f"{key} x{len(waits)}",
                "cat": key,
                "ph": "X",
                "ts": self._us(start),
                "dur": self._us(end) - self._us(start),
                "pid": 2,
                "tid": self._tid(2, engine),
                "args": {
                    "engine": engine,
                    "batch_id": batch_id,
                    "size": len(waits),
                    "queue_wait_mean_ms": 1e3 * sum(waits) / len(waits) if waits else 0.0,
                    "queue_wait_max_ms": 1e3 * max(waits, default=0.0),
                    "error": error,
                },
            }
        )

    def timeline(self) -> Timeline:
        meta: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "queries"}},
            {"name": "process_name", "ph": "M", "pid": 2, "tid": 0, "args": {"name": "engines"}},
        ]
        for (pid, name), tid in self._tids.items():
            meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
        return Timeline(meta + list(self.events))


__all__ = ["Recorder", "Timeline"]
