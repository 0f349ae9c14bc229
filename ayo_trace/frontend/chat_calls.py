"""Tracing ``ayo.llm(messages=...)``: the messages become a prompt template (``chat.py``).

What the tracer reads (each content may be a constant, an f-string or any traced value):

* a list or tuple literal whose elements are ``{"role": "...", "content": ...}`` dict literals,
  ``ayo.system/user/assistant(...)`` calls, constant messages (a global ``SYSTEM = ayo.system(...)``)
  or starred constant lists (``*FEW_SHOT``);
* any expression whose value is known at trace time (a constant list, a helper that folds).

The role must be known at trace time. A list built by code at run time (a chat history grown turn by
turn, a helper's result, a variable holding one, a literal holding a message kept in a name:
``Expressions.messages_at_run_time``) is rendered when the call runs, by a node calling what
``ayo.llm`` calls eagerly (``chat.render_messages``, with the engine's template known at trace
time), the LLM node taking the whole prompt (a ``Prompt``, its markup kept) as one value. A literal
of messages that are not well formed is refused with a ``TraceError`` that says how to write it.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..errors import AyoError, NoChatTemplate, TraceError
from ..host import host
from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.prompt import ChatTemplate, Markup
from ..ir.template import Hole, Template
from .builder import Expressions
from .chat import HELPERS, ROLES, check_messages, render_messages, skeleton
from .values import Static, Text, Traced, Value

_HOW = (
    "write the messages where ayo.llm is called, as a list literal of {'role': ..., 'content': ...} dicts "
    "or ayo.system/user/assistant(...) calls (contents may be any value; constant turns may be spliced in "
    "with *FEW_SHOT)"
)


class ChatMessages(Expressions):
    def chat_prompt(
        self, e: cst.BaseExpression, engine: str | None, loc: SourceLoc
    ) -> tuple[Template, list[Node]]:
        """The prompt template of ``messages=`` expression ``e`` for engine ``engine``: the turns'
        template, or for a list built when the workflow runs (a chat history grown turn by turn) a
        node rendering it then, as ``ayo.llm`` renders it eagerly (its whole text one hole)."""
        if self.messages_at_run_time(e):
            return self._rendered_at_run_time(e, engine, loc)
        messages = self._messages(e, loc)
        tpl = self._chat_template(engine, loc)
        try:
            parts, trims = skeleton(tpl, [r for r, _ in messages])
        except AyoError as err:
            raise TraceError(f"{err}", loc=loc, construct="llm") from err
        args: list[Node] = []
        out: list[Any] = []
        for p in parts:
            if isinstance(p, str):
                out.append(Markup(p))
            else:
                out.extend(self._content_parts(messages[p][1], trims[p], args, loc))
        return Template(tuple(out)), args

    def _rendered_at_run_time(
        self, e: cst.BaseExpression, engine: str | None, loc: SourceLoc
    ) -> tuple[Template, list[Node]]:
        tpl = self._chat_template(engine, loc)
        messages = self.body.materialize(self.expr(e, loc, "messages"), loc, "messages")
        temps: dict[str, Value] = {
            "__ayo_render": Static(render_messages),
            "__ayo_chat": Static(tpl),
            "__ayo_messages": Traced(messages),
        }
        self.body.temps.update(temps)
        try:
            node = self.body.python_node(
                cst.Name("__ayo_messages"),
                loc,
                ["prompt"],
                source="prompt = __ayo_render(__ayo_chat, __ayo_messages)",
                reads=list(temps),
                name="prompt",
            )
        finally:
            for k in temps:
                del self.body.temps[k]
        return Template((Hole(0, "prompt"),)), [node]

    def no_chat_template(self, e: cst.Await) -> bool:
        """Whether ``await ayo.llm(messages=...)`` is for an engine known now to have no chat
        template (``NoChatTemplate``, not a runtime not started): it runs as written, raising that
        error where it stands, as eagerly (a ``try`` around may catch it)."""
        call = e.expression
        if not isinstance(call, cst.Call) or self.primitive_of(e) != "llm":
            return False
        if not any(a.keyword is not None and a.keyword.value == "messages" for a in call.args):
            return False
        named = next(
            (a.value for a in call.args if a.keyword is not None and a.keyword.value == "engine"), None
        )
        engine = self.try_static(named) if named is not None else Static(None)
        if engine is None or not isinstance(engine.value, str | None):
            return False
        try:
            host().runtime().chat_template(engine.value)
        except NoChatTemplate:
            self.body.deps.saw_chat_template(engine.value, None)  # (one given later: traced again)
            return True
        except Exception:
            return False
        return False

    def _chat_template(self, engine: str | None, loc: SourceLoc) -> ChatTemplate:
        try:
            tpl: ChatTemplate = host().runtime().chat_template(engine)
        except AyoError as err:
            raise TraceError(f"ayo.llm(messages=...): {err}", loc=loc, construct="llm") from err
        self.body.deps.saw_chat_template(engine, tpl)
        return tpl

    def _messages(self, e: cst.BaseExpression, loc: SourceLoc) -> list[tuple[str, Value]]:
        static = self.try_static(e)
        if static is not None:
            return [(r, Static(c)) for r, c in self._check_static(static.value, loc)]
        if not isinstance(e, cst.List | cst.Tuple):
            raise TraceError(
                f"messages=`{self.body.src.code(e).strip()}` is computed when the workflow runs, so its turns "
                f"cannot be part of the prompt template; {_HOW}",
                loc=loc,
                construct="llm",
            )
        out: list[tuple[str, Value]] = []
        for el in e.elements:
            if isinstance(el, cst.StarredElement):
                spliced = self.try_static(el.value)
                if spliced is None:
                    raise TraceError(
                        f"*`{self.body.src.code(el.value).strip()}` in messages= is not known at trace time; "
                        "only constant lists of messages may be spliced in",
                        loc=loc,
                        construct="llm",
                    )
                if spliced.value or not isinstance(spliced.value, list | tuple):  # (`*[]` adds no turn)
                    out += [(r, Static(c)) for r, c in self._check_static(spliced.value, loc)]
                continue
            out.append(self._message(el.value, loc))
        if not out:
            raise TraceError("messages= is empty", loc=loc, construct="llm")
        return out

    def _check_static(self, value: Any, loc: SourceLoc) -> list[tuple[str, Any]]:
        try:
            return check_messages(list(value) if isinstance(value, list | tuple) else value)
        except AyoError as err:
            raise TraceError(f"{err}", loc=loc, construct="llm") from err

    def message_literal(self, e: cst.BaseExpression) -> bool:
        """Whether element ``e`` of a ``messages=`` list literal is written as a message the trace
        reads (a constant, an ``ayo.user(...)`` call, a dict literal); else (a name holding one
        built at run time) the call runs as written."""
        if isinstance(e, cst.Dict) or self.try_static(e) is not None:
            return True
        callee = self.callee(e) if isinstance(e, cst.Call) else None
        return callable(callee) and HELPERS.get(callee) is not None

    def _message(self, e: cst.BaseExpression, loc: SourceLoc) -> tuple[str, Value]:
        static = self.try_static(e)
        if static is not None:
            ((role, content),) = self._check_static([static.value], loc)
            return role, Static(content)
        if isinstance(e, cst.Call):
            callee = self.callee(e)
            helper_role = HELPERS.get(callee) if callable(callee) else None
            if helper_role is not None:
                bound = self.bind_call(_HELPER_SIG, e, loc)
                return helper_role, self.expr(bound["content"], loc, "content")
        if isinstance(e, cst.Dict):
            fields: dict[str, cst.BaseExpression] = {}
            for el in e.elements:
                key = self.try_static(el.key) if isinstance(el, cst.DictElement) else None
                if key is None or not isinstance(key.value, str) or key.value in fields:
                    break
                fields[key.value] = el.value
            else:
                if set(fields) == {"role", "content"}:
                    # a role passed as a workflow parameter specializes the trace (a guard)
                    role = self.static_arg(fields["role"], "role", "llm", loc)
                    if role not in ROLES:
                        raise TraceError(
                            f"the role of a message must be one of {ROLES}, got {role!r}",
                            loc=loc,
                            construct="llm",
                        )
                    return str(role), self.expr(fields["content"], loc, "content")
        raise TraceError(
            f"message `{self.body.src.code(e).strip()}` cannot be traced: {_HOW}", loc=loc, construct="llm"
        )

    def _content_parts(self, content: Value, trim: bool, args: list[Node], loc: SourceLoc) -> list[Any]:
        def hole(node: Node, kind: str, conversion: str | None = None, spec: str = "") -> Hole:
            if node not in args:
                args.append(node)
            return Hole(args.index(node), kind, conversion, spec)

        if isinstance(content, Static):
            if not isinstance(content.value, str):
                raise TraceError(
                    f"a message content must be a str, got {type(content.value).__name__}",
                    loc=loc,
                    construct="llm",
                )
            return [content.value.strip() if trim else content.value]
        if isinstance(content, Text):
            parts = list(content.parts)
            first, last = parts[0], parts[-1]
            if not trim or (
                isinstance(first, str) and first.lstrip() and isinstance(last, str) and last.rstrip()
            ):
                if trim:
                    parts[0] = str(parts[0]).lstrip()
                    parts[-1] = str(parts[-1]).rstrip()
                return [p if isinstance(p, str) else hole(p.arg, p.kind, p.conversion, p.spec) for p in parts]
            node = content.node()  # trimmed at a dynamic end: the whole content is one value
        else:
            node = self.body.materialize(content, loc, "content")
        return [hole(node, "content", None, "strip" if trim else "")]


def _helper(content: str) -> None:
    """The signature of ``ayo.system/user/assistant``."""


_HELPER_SIG = _helper
