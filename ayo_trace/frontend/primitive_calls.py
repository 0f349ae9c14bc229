"""Calls of the primitives: their data arguments become node args, the rest node attributes.

An attribute must be a constant of the graph (``collection=``, ``engine=``, sampling parameters).
When its value is a workflow parameter that is traced (a ``str`` collection name, say), the trace
specializes on that parameter's value instead of refusing: ``NeedStatic`` asks the workflow to trace
again with the parameter static, and the graph records a *guard* (shown in its header and by
``explain()``); another value traces again. A ``top_k=`` computed from data (or read from a field of
an argument) is not needed at trace time: it becomes an arg of the node. A graph constant computed
when the workflow runs (``seed=i`` from a loop's variable, ``collection=`` chosen per query,
``max_tokens=`` from data) makes the call a graph break (``static_at_run_time``): it runs eagerly,
with the values plain Python passes. Bad sampling parameters are a ``TraceError`` naming the line,
at trace time.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..errors import AyoError, TraceError
from ..ir.builtin_primitives import sampling_params
from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.params import check_text
from ..ir.parsers import output_parser
from ..ir.spec import PrimitiveSpec, primitive_spec
from ..ir.template import Hole, Template
from . import unpacking, unroll
from .builder import Expressions
from .closures import reads_changed
from .deps import NeedStatic
from .guards import path_of
from .values import Static, Text, Traced, Value


def _signature_of(spec: PrimitiveSpec) -> Any:
    """A stand-in function with the primitive's signature, for ``bind_call``."""

    def primitive(*args: Any, **kwargs: Any) -> None: ...

    primitive.__name__ = spec.name
    primitive.__signature__ = spec.signature()  # type: ignore[attr-defined]
    return primitive


class PrimitiveCalls(Expressions):
    def static_arg(self, e: cst.BaseExpression, name: str, op: str, loc: SourceLoc) -> Any:
        field = path_of(e)
        if field is not None and self.try_static(e) is None:
            root, path = field
            held = self._root_value(root, loc)
            param = self.param_of(held) if held is not None else None
            if param is not None:
                if (param, path) in self.body.deps.fields:
                    return self.body.deps.fields[(param, path)]
                raise NeedStatic(param, f"`{name}=` of ayo.{op}() at {loc}", path)
        value = self.expr(e, loc, name)
        if isinstance(value, Static):
            return value.value
        param = self.param_of(value)
        if param is not None:
            raise NeedStatic(param, f"`{name}=` of ayo.{op}() at {loc}")
        raise TraceError(
            f"`{name}=` of ayo.{op}() must be known when the workflow is traced, but "
            f"`{self.body.src.code(e).strip()}` is computed from traced values; pass it as a parameter of the "
            f"workflow (the trace then specializes on its value) or compute it from static arguments",
            loc=loc,
            construct=op,
        )

    def static_at_run_time(self, e: cst.Await) -> str | None:
        """What argument of ``await ayo.<op>(...)`` must be a constant of the graph (``collection=``,
        ``engine=``, a sampling parameter such as ``seed=`` or ``temperature=``, the items of a
        ``**kwargs``) but is computed when the workflow runs: a loop's variable, a value derived from
        data, a dict of settings built per query (``messages=`` built then is rendered then:
        ``chat_calls``).
        Such a call runs eagerly, as a graph break; the answer names the argument for its reason,
        in backquotes (`` `seed=` ``, `` `**opts` ``). None when every such argument is known at
        trace time or is a workflow parameter (or a field of one: the trace specializes on its
        value, ``static_arg``). A call in a comprehension traced unrolled is judged with each of
        its items (``unroll.per_item``)."""
        return unroll.per_item(self.body, e, lambda: self._run_time_constant(e))

    def _run_time_constant(self, e: cst.Await) -> str | None:
        op = self.primitive_of(e)
        spec = primitive_spec(op) if op is not None else None
        if spec is None:
            return None
        assert isinstance(e.expression, cst.Call)
        graph_constants = set(spec.names("static"))
        for arg in e.expression.args:
            if arg.star and unpacking.known(self.body, arg.value) is None:
                unroll.request(self.body, e, self._reads(arg.value))
                return f"`{arg.star}{self.body.src.code(arg.value).strip()}`"
            if arg.keyword is None or arg.keyword.value not in graph_constants:
                continue
            k, v = arg.keyword.value, arg.value
            if k == "messages":
                continue  # (a list built at run time is rendered then: `chat_calls`)
            if not (k == "parse" and self.value_now(v) is not None) and not self._known_when_traced(v, e):
                unroll.request(self.body, e, self._reads(v))  # a loop's constant: unrolled, traced again
                return f"`{k}=`"
        return None

    def _reads(self, v: cst.BaseExpression) -> set[str]:
        try:
            return set(self.body.src.free_names(v)[0])
        except KeyError:  # an expression the compiler made
            return set()

    def _known_when_traced(self, v: cst.BaseExpression, e: cst.Await) -> bool:
        """Whether ``static_arg`` can make ``v`` a graph constant: a value folded at trace time, or
        a name or field path whose root is static or a workflow parameter (a guard)."""
        if self.try_static(v) is not None:
            return True
        field = path_of(v)
        root = field[0] if field is not None else v if isinstance(v, cst.Name) else None
        if root is None:
            return False
        loc = self.body.src.loc(e) if e in self.body.src.positions else SourceLoc("<workflow>", 0)
        value = self._root_value(root, loc)
        if value is None:
            # a module's name that did not fold (state the workflow changes: `seed=CONFIG["seed"]`
            # then `CONFIG["seed"] += 1`) is read when the workflow runs; an outer function's
            # closure cell as static_arg reads it, unless the function changes what it holds (a
            # factory's `st = {"n": 0}`: read when it runs, as a module's would be)
            return (
                root.value not in getattr(self.body.src.fn, "__globals__", {})
                and not self._local(root)
                and not reads_changed(self.body, [root.value])
            )
        if isinstance(value, Static) and field is not None:
            # (a field of a static object that did not fold: state the workflow changes, reached
            # through a helper's default `persona=BOT`; read when it runs, so the call is a break)
            return False
        return isinstance(value, Static) or self.param_of(value) is not None

    def _local(self, root: cst.Name) -> bool:
        try:
            return root.value in self.body.src.free_names(root)[0]
        except KeyError:  # an expression the compiler made
            return False

    def _root_value(self, root: cst.Name, loc: SourceLoc) -> Value | None:
        """The value of the name a field path starts at: the workflow's variable (or the body's),
        also as a helper defined in the workflow reads it (``cfg`` in ``max_tokens=cfg.max_tokens``,
        judged as the workflow's: computed after the workflow set ``cfg.max_tokens``); None for a
        module's or an outer function's name, or one not bound yet (a comprehension's variable,
        seen from its statement)."""
        body = self.body
        own = root.value in body.env or root.value in body.temps or self._local(root)
        if not own and (root.value in getattr(body.src.fn, "__globals__", {}) or body.enclosing is None):
            return None
        try:
            return body.lookup_local(root.value, loc)
        except TraceError:
            return None

    def param_of(self, value: Value) -> str | None:
        """The workflow parameter whose traced input ``value`` is, seen through map and branch
        bodies and inlined calls; None when it is computed."""
        if not isinstance(value, Traced):
            return None
        node: Node = value.node
        c: Any = self.body
        while node.op == "input":
            outer = next((o for o, inp in c.captures.values() if inp is node), None)
            if outer is not None:
                node, c = outer, c.parent
            elif c.caller is not None:
                c = c.caller
            elif c.parent is None:
                return str(node.attrs["name"])
            else:
                return None
        return None

    def primitive_call(self, op: str, call: cst.Call, loc: SourceLoc, hint: str | None) -> Node:
        spec = primitive_spec(op)
        if spec is None:
            raise TraceError(f"ayo.{op}() is not a registered primitive", loc=loc, construct=op)
        bound = self.bind_call(_signature_of(spec), call, loc)
        data, dynamic_names = spec.names("data"), spec.names("dynamic")
        # the arguments the graph computes, evaluated as written (`bound`'s order; a prompt is
        # kept as it is, for its template)
        given: dict[str, Value] = {}
        for k, v in bound.items():
            if k in data or k in dynamic_names:
                value = self.expr(v, loc, k)
                keep = isinstance(value, Static) or (op == "llm" and k == "prompt")
                given[k] = value if keep else Traced(self.body.materialize(value, loc, k))
        dynamic: dict[str, Node] = {}  # dynamic arguments known only at run time
        st: dict[str, Any] = {}
        for k, v in bound.items():
            if k in data:
                continue
            if k in dynamic_names:
                value = given[k]
                if not isinstance(value, Static):
                    dynamic[k] = self.body.materialize(value, loc, k)
                    continue
                st[k] = value.value
            elif k == "messages":
                st[k] = v  # read as turns by chat_prompt
            elif k == "parse" and (now := self.value_now(v)) is not None:
                st[k] = now.value  # a parser built in the call (a lambda, functools.partial(...))
            else:
                st[k] = self.static_arg(v, k, op, loc)
        name = hint or op
        if op == "llm":
            if ("prompt" in bound) == ("messages" in st):
                raise TraceError(
                    "ayo.llm() takes a prompt or messages=, exactly one of them", loc=loc, construct="llm"
                )
            if "messages" in st:
                template, args = self.chat_prompt(st.pop("messages"), st.get("engine"), loc)
            elif isinstance(prompt := given["prompt"], Static):
                template, args = Template.constant(check_text(prompt.value, "prompt")), list[Node]()
            elif isinstance(prompt, Text):
                template, args = prompt.template()
            else:
                # the whole prompt is a value: it must be a str, as when eager
                template, args = Template((Hole(0, "prompt"),)), [prompt.node]
            engine = st.pop("engine", None)
            to_caller = st.pop("stream", False)
            if not isinstance(to_caller, bool):
                raise TraceError(
                    f"stream= of ayo.llm() takes True or False, got {to_caller!r}", loc=loc, construct="llm"
                )
            try:
                parse = output_parser(st.pop("parse", None))
                sampling = sampling_params(**st)
            except (ValueError, TypeError, AyoError) as err:
                raise TraceError(f"bad parameter of ayo.llm(): {err}", loc=loc, construct="llm") from err
            if parse is not None:
                sampling = parse.constrain(sampling)
            attrs = {"template": template, "sampling": sampling, "parse": parse, "engine": engine}
            if to_caller:
                attrs["to_caller"] = True  # an answer wf.stream hands on (see Workflow.stream)
            return self.body.emit("llm", args, attrs, loc, name)
        values = [self.body.materialize(given[k], loc, k) for k in data if k in bound]
        try:
            attrs = spec.node_attrs(st, at_run_time=dynamic)
        except (ValueError, TypeError, AyoError) as err:
            raise TraceError(f"bad parameter of ayo.{op}(): {err}", loc=loc, construct=op) from err
        for k, node in dynamic.items():  # an arg after the data args; the attribute says which
            attrs[f"{k}_arg"] = len(values)
            values.append(node)
        return self.body.emit(op, values, attrs, loc, name)
