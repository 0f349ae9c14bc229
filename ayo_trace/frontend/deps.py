"""What a trace depends on besides its arguments: the globals and closure cells it read."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..errors import NoChatTemplate
from ..host import host
from .source import FunctionSource


class NeedStatic(Exception):
    """Internal: the trace needs workflow parameter ``param`` as a constant (``use`` says where)."""

    def __init__(self, param: str, use: str, path: str = "") -> None:
        super().__init__(param)
        self.param = param
        self.use = use
        self.path = path  # a field of the parameter (``.collection``), when only that is needed


@dataclass
class TraceDeps:
    """Globals and closure cells the trace read at trace time (of the workflow and of every helper
    it inlined), with the values it saw; and the parsed sources of those helpers."""

    seen: dict[tuple[int, str], tuple[Any, Any]] = field(default_factory=dict)
    sources: dict[Any, FunctionSource] = field(default_factory=dict)
    chat: dict[str | None, Any] = field(default_factory=dict)  # engine -> the chat template rendered with
    fields: dict[tuple[str, str], Any] = field(default_factory=dict)  # (param, path) -> guarded value
    # the `def`s (by file:line) whose calls run eagerly, as graph breaks: their recursion does not end
    # at trace time (``helpers.RecursesAtRunTime``)
    eager_defs: set[Any] = field(default_factory=set)
    # the `for` loops (by place) traced unrolled: an item is a graph constant (``unroll.UnrollLoop``)
    unrolled: set[Any] = field(default_factory=set)
    # the loops (by place) run as written, with why: a loop nested in one cannot jump out of it
    # through the statement around it (``nested_loops.LoopAsWritten``)
    as_written: dict[Any, str] = field(default_factory=dict)
    # the workflow's arguments (``unroll.mark`` reads the one a loop iterates over)
    arguments: dict[str, Any] = field(default_factory=dict)
    # statements that built a list of coroutines traced at its gather (``coroutine_lists.built``)
    deferred: set[int] = field(default_factory=set)
    # the last arm of each call through a table traced as a conditional (``dispatch.arms``), by id
    # (held here, so no other node takes its id during the trace): not dispatched again
    fallbacks: dict[int, Any] = field(default_factory=dict)
    # the awaits (code, line) of statements run as written to keep Python's order of evaluation
    # around them (``operand_order.reordered``), for the reason their graph break gives
    reordered: set[tuple[str, int]] = field(default_factory=set)
    # the task groups whose `async with` is being traced, by name (``task_groups.task_group``)
    task_groups: dict[str, Any] = field(default_factory=dict)
    # the calls (by id) of a `gather(..., return_exceptions=True)` being traced: each one's error is
    # its value (``try_except.caught``); of an `asyncio.as_completed(...)`, the two functions making
    # its outcome of its value and of its error (``completion``)
    caught: dict[int, tuple[Any, ...] | None] = field(default_factory=dict)
    # the nodes formatting a string's hole where the string is built (``text._formatted_now``), by id
    formatted_now: dict[int, Any] = field(default_factory=dict)
    # why each `try` that runs as written does, by its place in the source (``try_reasons``)
    try_reasons: dict[Any, str] = field(default_factory=dict)
    # the `asyncio.as_completed(...)` calls (by id) traced as lists of outcomes (``completion``)
    outcomes: set[int] = field(default_factory=set)
    # the defaults of the workflow's own `async def`s known when each `def` ran, by the def's id
    # (``prefix = "Answer:"`` then ``async def ask(q, p=prefix)``: ``helpers._defaults``)
    def_defaults: dict[int, dict[str, Any]] = field(default_factory=dict)
    # attributes of objects the trace folded (``max_tokens=CFG.tokens``), with the values it saw:
    # another query may set them (``setattr(CFG, "tokens", 1)``), which traces the workflow again
    attributes: dict[tuple[int, str], tuple[Any, Any]] = field(default_factory=dict)

    def saw_chat_template(self, engine: str | None, template: Any) -> None:
        self.chat[engine] = template

    # copies of the lists, dicts and sets among ``seen`` as the trace saw them: code outside the
    # workflow may change one in place between queries (``TOPICS.append(t)`` of an admin call),
    # which traces the workflow again, as binding the name again does
    contents: dict[tuple[int, str], Any] = field(default_factory=dict)

    def saw_global(self, namespace: dict[str, Any], name: str, *, contents: bool = True) -> None:
        """The trace read module name ``name``; ``contents``: it may have folded what the list,
        dict or set there holds (not for a method it resolved, ``LOG.append``: the object's identity
        is all that call depends on, and a workflow changing the object would trace again per query)."""
        self.seen[(id(namespace), name)] = (namespace, namespace[name])
        if contents:
            self._keep_contents((id(namespace), name), namespace[name])

    def saw_cell(self, cell: Any, value: Any, *, contents: bool = True) -> None:
        """The trace read a closure's cell holding ``value`` (``contents``: as ``saw_global``)."""
        self.seen[(id(cell), "")] = (cell, value)
        if contents:
            self._keep_contents((id(cell), ""), value)

    def _keep_contents(self, key: tuple[int, str], value: Any) -> None:
        if type(value) not in (list, dict, set) or key in self.contents:
            return
        try:
            copied = copy.deepcopy(value)
            if bool(copied == value):  # (not for contents that do not compare: numpy arrays)
                self.contents[key] = copied
                return
        except Exception:
            pass
        # objects that compare by identity (`TEAM = [Agent("a"), Agent("b")]`, a table of agents):
        # which objects it holds, compared by identity (their fields are ``attributes``)
        self.contents[key] = _Held(value)

    def saw_attribute(self, owner: Any, name: str, value: Any) -> None:
        """The trace folded ``owner.name`` (``CFG.tokens`` of a module's object) as ``value``."""
        self.attributes[(id(owner), name)] = (owner, value)

    def fresh(self) -> bool:
        """Whether every global, cell and folded attribute still holds (a value equal to) what the
        trace saw, and every engine whose chat template rendered messages still has that template."""
        for engine, template in self.chat.items():
            try:
                current = host().runtime().chat_template(engine)
            except NoChatTemplate:
                current = None  # (seen so: the call ran as written, `ChatMessages.no_chat_template`)
            except Exception:
                return False
            if current != template:
                return False
        for key, copied in self.contents.items():
            try:
                if isinstance(copied, _Held):
                    if not copied.holds(self.seen[key][1]):
                        return False
                elif not bool(self.seen[key][1] == copied):
                    return False
            except Exception:
                return False
        held = [(name, where, value, False) for (_, name), (where, value) in self.seen.items()]
        held += [(name, owner, value, True) for (_, name), (owner, value) in self.attributes.items()]
        for name, where, seen, attribute in held:
            try:
                if attribute:
                    now = getattr(where, name, _MISSING)
                else:
                    now = where.get(name, _MISSING) if name else where.cell_contents
            except ValueError:
                now = _MISSING
            except Exception:
                return False
            if now is seen:
                continue
            try:
                if not bool(now == seen):
                    return False
            except Exception:
                return False
        return True


_MISSING = object()


class _Held:
    """What a list, dict or set held when the trace saw it, by identity: ``holds`` tells whether
    it holds the same objects now (in the same order, under the same keys)."""

    def __init__(self, value: Any) -> None:
        self.kind = type(value)
        self.items = list(value.items()) if isinstance(value, dict) else list(value)

    def holds(self, value: Any) -> bool:
        if type(value) is not self.kind:
            return False
        if isinstance(value, set):
            return len(value) == len(self.items) and {id(v) for v in value} == {id(v) for v in self.items}
        now = list(value.items()) if isinstance(value, dict) else list(value)
        if isinstance(value, dict):
            return len(now) == len(self.items) and all(
                k == k0 and v is v0 for (k, v), (k0, v0) in zip(now, self.items, strict=True)
            )
        return len(now) == len(self.items) and all(v is v0 for v, v0 in zip(now, self.items, strict=True))
