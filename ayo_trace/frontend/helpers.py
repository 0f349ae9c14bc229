"""Helpers are traced: an undecorated ``async def`` that awaits primitives is inlined like a workflow.

A helper is a module-level ``async def``, a method of an object known at trace time (``self.retrieve``
when ``self`` is static, or ``agent(q)`` of an object whose class has an ``async def __call__``), a
method of an object the workflow made of a plain class (``agent = Agent(...)``: ``TracedSelf``), or
an ``async def`` defined inside the workflow itself. It is inlined when
it awaits (directly, or through other helpers) an ayo primitive or workflow; its nodes carry its own
``file:line``. Recursion unrolls while its arguments are static, up to ``MAX_INLINE_DEPTH`` nested
calls (``MAX_TRACED_RECURSION`` when one is known only at run time: ``rec(chunks[:k], depth + 1)``);
past that (recursion on a traced value never ends at trace time: a divide-and-conquer summary
splitting its chunks in halves) the workflow is traced again with the calls of that function run
eagerly, as graph breaks (``RecursesAtRunTime``). An ``await`` of anything else is a graph break.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import libcst as cst

from ..errors import TraceError
from ..ir.code import SourceLoc
from . import (
    closures,
    forwarding,
    handed_objects,
    helper_defaults,
    impure,
    local_defs,
    made_fields,
    made_methods,
    param_parts,
    supers,
    unpacking,
    user_code,
)
from .builder import Expressions
from .made_methods import TracedSelf
from .source import FunctionSource
from .state import _immutable, walk
from .values import Static, Traced, Value
from .visiting import visit

MAX_INLINE_DEPTH = 24
MAX_TRACED_RECURSION = 6  # (calls deep, recursing with an argument known only at run time)


class RecursesAtRunTime(Exception):
    """Internal: inlining the function defined at ``where`` (a ``SourceLoc``) went past
    ``MAX_INLINE_DEPTH``; the workflow traces again with its calls run eagerly (``message``: the
    refusal, should tracing again not help)."""

    def __init__(self, where: Any, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def def_key(src: FunctionSource) -> Any:
    """What names a function for ``TraceDeps.eager_defs``: where it is defined."""
    return src.loc(src.node)


@dataclasses.dataclass(frozen=True)
class Helper:
    """A helper to inline: its source, the static ``self`` of a method, and the compiler whose names
    a helper defined inside the workflow reads (None for module-level helpers and methods)."""

    fn: Any
    src: FunctionSource
    self_value: Any = None
    enclosing: Any = None


def _waits_for_nothing(comp: Any, fn: Any) -> bool:
    """Whether ``async def fn`` never waits (no ``await``, ``async for`` or ``async with`` in it: a
    tool with an async signature, ``async def calc(x): return str(eval(x))``): awaiting it runs its
    body at once, as the graph runs its statements inlined."""
    try:
        src = comp.helper_source(fn)
    except (TraceError, SyntaxError):
        return False
    for n in walk(src.node.body):
        if isinstance(n, cst.Await) or (isinstance(n, cst.For | cst.With) and n.asynchronous is not None):
            return False
        if isinstance(n, cst.CompFor) and n.asynchronous is not None:
            return False
    return True


class Helpers(Expressions):
    """The helper calls of an ``ExpressionCompiler``: found, and inlined into its body's graph."""

    def helper_of(self, e: cst.Await) -> Helper | None:
        call = e.expression
        if not isinstance(call, cst.Call):
            return None
        if not self._spreads_known(call):
            return None  # `await helper(*items)` of items computed when the workflow runs
        if isinstance(call.func, cst.Name):
            local = self._local_def(call.func.value) or self._handed_def(call.func.value)
            if local is not None:
                return local
        self_value, fn = self._function_of(call)
        if not inspect.iscoroutinefunction(fn) or getattr(fn, "__ayo_workflow__", False):
            return None
        if getattr(fn, "__ayo_primitive__", None) or user_code.runtime_code(fn):
            return None  # (a primitive, `asyncio.sleep`: not the user's helper)
        if user_code.behind_library_decorator(fn):
            return None  # behind a library's decorator (retrying, tracing spans): run as written
        try:
            src = self.helper_source(fn)
        except (TraceError, SyntaxError):
            return None
        if _binds_outer(src):
            return None  # (a factory's closure binding its variable, `nonlocal calls`: run as written)
        # (what the call hands it: `await run_with(agent, q)` awaiting `agent.generate(q)`)
        handed = handed_objects.seen_arguments(self, src, call, self_value is not None)
        if not (
            self._awaits_ayo(fn, self_value, 0, handed)
            or self._passed_ayo(call)
            or _waits_for_nothing(self, fn)
        ):
            return None
        if def_key(src) in self.body.deps.eager_defs:
            return None  # its recursion does not end at trace time: a graph break
        return Helper(fn, src, self_value)

    def _passed_ayo(self, call: cst.Call) -> bool:
        """Whether ``call`` passes the helper a function known now that calls ayo (``await
        compose(q, rewrite, answer)``): the helper calls it, so it is inlined with it."""
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and not arg.star and self._handed_def(arg.value.value):
                return True  # (`await apply(local, docs)` of the workflow's own `async def local`)
            found = self.try_static(arg.value)
            if found is None:
                continue
            values = (
                found.value if arg.star == "*" and isinstance(found.value, tuple | list) else [found.value]
            )
            if any(self.calls_ayo(v) for v in _few(values)):
                return True
        return False

    def _function_of(self, call: cst.Call) -> tuple[Any, Any]:
        """``(self, function)`` of the callee: a bound method's, an object's ``async def
        __call__``'s (``self`` None for a plain function)."""
        if (above := supers.method_of(self.body, call)) is not None:  # `super().m(...)`
            me, method_fn = above
            return (TracedSelf(me) if isinstance(me, Traced) else me.value), method_fn  # type: ignore[union-attr]
        fn = self.callee(call)
        if fn is None and (method := made_methods.method_of(self, call)) is not None:
            return method
        if inspect.ismethod(fn):
            return fn.__self__, fn.__func__
        if callable(fn) and not inspect.isroutine(fn) and not isinstance(fn, type):
            call_method = type(fn).__call__  # an object whose class has `async def __call__`
            if inspect.iscoroutinefunction(call_method):
                return fn, call_method
        return None, fn

    def eager_recursion(self, e: cst.Await) -> str | None:
        """The name of the helper ``await e`` calls when its calls run eagerly because its
        recursion does not end at trace time (``RecursesAtRunTime``); else None."""
        call = e.expression
        if not (isinstance(call, cst.Call) and self.body.deps.eager_defs):
            return None
        c: Any = self.body
        while isinstance(call.func, cst.Name) and c is not None:
            if call.func.value in c.local_defs:
                node = c.local_defs[call.func.value][0]
                return node.name.value if c.src.loc(node) in self.body.deps.eager_defs else None
            c = c.parent if c.parent is not None else c.enclosing
        _, fn = self._function_of(call)
        src = self.body.deps.sources.get(fn)
        return (
            getattr(fn, "__name__", "helper")
            if src is not None and def_key(src) in self.body.deps.eager_defs
            else None
        )

    def helper_source(self, fn: Any) -> FunctionSource:
        cache = self.body.deps.sources
        if fn not in cache:
            cache[fn] = FunctionSource.parse(fn)
        return cache[fn]

    def _awaits_ayo(self, fn: Any, self_value: Any, depth: int, handed: dict[str, Any] | None = None) -> bool:
        """Whether ``fn`` calls an ayo primitive or workflow, directly or through other helpers,
        awaited or gathered (names resolved in its globals, its closure, what the call hands its
        parameters (``handed``) and, for a method, its ``self`` at trace time)."""
        if depth > 4 or user_code.runtime_code(fn):
            return False
        try:
            src = self.helper_source(fn)
        except (TraceError, SyntaxError):
            return False
        closure = inspect.getclosurevars(fn)
        scope = {**closure.globals, **closure.nonlocals, **closure.builtins}
        if (cls := supers.owner(fn)) is not None:
            scope["super"] = lambda: supers.SuperView(cls)  # (`super().m`: the base's `m`)
        params = src.node.params.params
        if self_value is not None and params:  # (a traced self: its class stands for it)
            scope[params[0].name.value] = (
                self_value.seen() if isinstance(self_value, TracedSelf) else self_value
            )
        scope.update(handed or {})

        class V(cst.CSTVisitor):
            # every call, awaited or not (`await asyncio.gather(ayo.llm(a), ayo.llm(b))`,
            # `tasks.append(asyncio.create_task(summarize(x)))`), and functions passed by name
            # (`tg.start_soon(ayo.llm, p)`, `functools.partial(ayo.search, ...)`)
            def visit_Call(self, n: cst.Call) -> None:
                targets.append(n.func)
                targets.extend(a.value for a in n.args if isinstance(a.value, cst.Name | cst.Attribute))

        targets: list[cst.BaseExpression] = []
        loops: list[cst.BaseExpression] = []  # `for step in self.steps: x = await step(x)`
        visit(src.node.body, V())
        for node in walk(src.node.body):
            if isinstance(node, cst.For):
                loops.append(node.iter)
        for func in [*targets, *loops]:
            if not isinstance(func, cst.Name | cst.Attribute):
                continue
            try:
                target = eval(src.code(func).strip(), fn.__globals__, scope)
            except Exception:
                continue
            items = _few(target) if func in loops else [target]
            if any(self.calls_ayo(item, depth + 1) for item in items):
                return True
        return False

    def calls_ayo(self, target: Any, depth: int = 0) -> bool:
        """Whether calling ``target`` (a function, a method, an object with ``async def __call__``)
        calls an ayo primitive or workflow."""
        if getattr(target, "__ayo_primitive__", None) or getattr(target, "__ayo_workflow__", False):
            return True
        owner = None
        if inspect.ismethod(target):
            owner, target = target.__self__, target.__func__
        elif callable(target) and not inspect.isroutine(target) and not isinstance(target, type):
            owner, target = target, inspect.getattr_static(type(target), "__call__", None)
        return inspect.iscoroutinefunction(target) and self._awaits_ayo(target, owner, depth)

    def _local_def(self, name: str) -> Helper | None:
        """The ``async def name`` of the workflow body, if ``name`` still holds it here."""
        found = local_defs.named(self.body, name)
        if found is None or self._shadowed(*found):
            return None
        return self._local_helper(*found)

    def _handed_def(self, name: str) -> Helper | None:
        """The workflow's own ``async def`` that ``name`` holds though it is not its name
        (``local_defs.handed``), where its body can read the names of the body active at the call
        (one of this graph: else a graph break)."""
        found = local_defs.handed(self.body, name)
        if found is None or self._shadowed(*found):
            return None
        return self._local_helper(*found)

    def _shadowed(self, defining: Any, node: cst.FunctionDef) -> bool:
        """Whether the body of ``node`` (defined in ``defining``) called here could not read the
        names its closure reads (a graph break then): the body active at the call in its own
        function is of another graph (no capture through the bodies between), and the names are
        not read through bodies around this one, or a body of another function on the way binds
        one of them (``local_defs.shadowed``)."""
        if local_defs.scope_at_call(self.body, defining).graph is self.body.graph:
            return False
        return not _reaches(self.body, defining) or local_defs.shadowed(self.body, defining, node)

    def _local_helper(self, c: Any, node: cst.FunctionDef) -> Helper | None:
        """The helper for the ``async def`` ``node`` of the body ``c`` (None where its calls run
        eagerly: ``RecursesAtRunTime``)."""
        local = local_defs.source(c.src, node)
        return None if def_key(local) in self.body.deps.eager_defs else Helper(None, local, None, c)

    def inline_helper(self, helper: Helper, call: cst.Call, loc: SourceLoc) -> Value:
        self.check_depth(call, loc, helper.src)
        node = helper.src.node
        params = node.params
        # a bare `*` (keyword-only parameters follow) is a ParamStar, not a `*args` parameter
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
        plain = [*params.posonly_params, *params.params]
        env: dict[str, Value] = {}
        # an argument is an expression, or the value of an item a `*xs`/`**kw` known now unpacks
        positional: list[cst.BaseExpression | Value] = []
        me_param = None  # (the parameter taking `self`: none where a wrapper's `*args` takes it)
        if helper.self_value is not None:
            me = helper.self_value
            value = self._traced_self(me, loc) if isinstance(me, TracedSelf) else self._held_self(me, loc)
            if plain:
                me_param, plain = plain[0].name.value, plain[1:]
                env[me_param] = value
            else:  # a decorator's `async def wrapper(*args, **kwargs)` on a method
                positional.append(value)
        keywords: dict[str, cst.BaseExpression | Value] = {}
        for a in call.args:
            if a.star == "*":
                positional.extend(Static(v) for v in unpacking.known(self.body, a.value))
            elif a.star == "**":
                keywords.update({k: Static(v) for k, v in unpacking.known(self.body, a.value).items()})
            elif a.keyword is None:
                positional.append(a.value)
            else:
                keywords[a.keyword.value] = a.value
        if len(positional) > len(plain) and star is None:
            raise TraceError(
                f"helper `{node.name.value}` takes {len(plain)} positional arguments, {len(positional)} given",
                loc=loc,
                construct="call",
            )
        # Python evaluates the arguments as written (the positional ones, then the keywords), and
        # only then binds them to the parameters
        names = {p.name.value for p in [*plain, *params.kwonly_params]}
        kwargs = params.star_kwarg.name.value if params.star_kwarg is not None else None
        slots = [p.name.value for p in plain] + [star.name.value if star is not None else ""] * len(
            positional
        )
        given = [
            handed_objects.made_argument(self, e, self._arg(e, loc, slots[i]), helper.src, slots[i])
            for i, e in enumerate(positional)
        ]
        named = {
            k: handed_objects.made_argument(self, e, self._arg(e, loc, slot), helper.src, slot)
            for k, e in keywords.items()
            for slot in [k if k in names or kwargs is None else kwargs]
        }
        forwarded: list[tuple[str, list[Value], list[str] | None]] = []
        if star is not None:  # `*args`: the extra positional arguments, as a tuple
            values = given[len(plain) :]
            env[star.name.value] = self.packed(star.name.value, values, None, loc)
            forwarded.append((star.name.value, values, None))
        if kwargs is not None:  # `**kwargs`: the keywords no parameter takes, as a dict
            extra = {k: named.pop(k) for k in list(named) if k not in names}
            values = list(extra.values())
            # (a dict the helper changes is made when the graph runs: each query gets its own)
            fresh = not forwarding.only_read(helper.src, kwargs)
            env[kwargs] = self.packed(kwargs, values, list(extra), loc, fresh=fresh)
            forwarded.append((kwargs, values, list(extra)))
        defaults = helper_defaults.of(helper, self.body.deps.def_defaults.get(id(helper.src.node), {}))
        for i, p in enumerate([*plain, *params.kwonly_params]):
            pname = p.name.value
            if i < len(given) and p in plain:
                env[pname] = given[i]
            elif pname in named:
                env[pname] = named.pop(pname)
            elif pname in defaults and isinstance(
                defaults[pname], helper_defaults.DefaultAtDef
            ):  # (read where the def ran)
                env[pname] = self.body.lookup_local(defaults[pname].key, loc, raw=True)
            elif pname in defaults and not isinstance(defaults[pname], list | dict | set | bytearray):
                env[pname] = Static(defaults[pname])
            elif pname in defaults:  # (`history=[]`: one list kept from call to call, read when run)
                env[pname] = Traced(self.body.const(defaults[pname], loc, pname), held=True)
            else:
                raise TraceError(
                    f"helper `{node.name.value}` is missing its argument `{pname}`", loc=loc, construct="call"
                )
        if named:
            raise TraceError(
                f"helper `{node.name.value}` has no parameter `{next(iter(named))}`",
                loc=loc,
                construct="call",
            )
        inside = self._inlining(helper.src) if helper.self_value is None else 0
        static = all(isinstance(v, Static) for v in env.values())
        if inside and (_nothing_static(env) or (inside >= MAX_TRACED_RECURSION and not static)):
            raise RecursesAtRunTime(def_key(helper.src), _too_deep(self.body.src.code(call)))
        child = self.body.inlined(helper.src, env)
        given_as = {p.name.value: e for p, e in zip(plain, positional, strict=False)}
        given_as.update((k, e) for k, e in keywords.items() if k in names)
        if isinstance(helper.self_value, TracedSelf) and isinstance(call.func, cst.Attribute) and me_param:
            given_as[me_param] = call.func.value  # (`await objs[0].step(q)`)
        param_parts.bind(self.body, child, given_as, call)
        for name, values, keys in forwarded:  # passed on as they are: `await fn(*args, **kwargs)`
            forwarding.bind(child, name, values, keys)
        # a helper defined in the workflow reads the workflow's variables as they are at the call
        frame = local_defs.scope_at_call(self.body, helper.enclosing)
        if frame is not None and frame.graph is not self.body.graph:  # (no capture through a body between)
            frame = self.body if _reaches(self.body, helper.enclosing) else helper.enclosing
        child.enclosing = frame
        return child.compile_function()

    def _traced_self(self, me: TracedSelf, loc: SourceLoc) -> Value:
        if me.value is not None:
            return me.value
        cls, make = me.made  # type: ignore[misc]
        made = self.expr(make, loc, "self")  # (made here, once per query, as Python makes it; or read)
        if not isinstance(made, Traced):
            return made
        fields = made_fields.initial_fields(self.body, None, make, cls) if me.fields is None else me.fields
        return Traced(made.node, cls=cls, fields=fields)

    def _held_self(self, me: Any, loc: SourceLoc) -> Value:
        """The ``self`` of a method of an object known at trace time (a module's ``BOT``): the
        object itself, unless its class's methods change their object: then it keeps state from
        query to query, so its reads (``self.history`` in a prompt) are made when the graph runs,
        on that object (its constant fields nothing sets again are still read now). Likewise
        when code the workflow runs changes it otherwise (another object's method setting its
        field, ``CODE.style = s``, its class's, ``Agent.prefix = s``, or one of an object it holds,
        ``CFG.style = s`` of ``Service(CFG)``): then every read is made when the graph runs."""
        cls: Any = type(me)
        if isinstance(me, type) or not made_fields.plain_class(cls):
            return Static(me)
        if impure.changes_self(cls):
            fields = made_fields.fields_of(self.body, me)
        elif closures.object_changed(self.body, [me, *cls.__mro__[:-1], *impure.held_items([me])]):
            fields = None  # (it, a class it reads attributes of, `Agent.prefix = s`, or what it holds)
        else:
            return Static(me)
        return Traced(self.body.const(me, loc, "self"), cls=cls, fields=fields, held=True)

    def known_defaults(self, fn: cst.FunctionDef) -> dict[str, Any]:
        """The defaults of ``fn``'s parameters where its ``def`` stands: an immutable value known at
        trace time, or the ``Traced`` value of a name (or an attribute or item of one) of the
        workflow then (``async def one(x=d)`` in a loop, the idiom binding the item now), or of a new
        object (``acc=[]``, ``cache={}``), which Python makes once each time the ``def`` runs, as
        the graph does there."""
        params = fn.params
        out: dict[str, Any] = {}
        for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if p.default is None:
                continue
            found = self.try_static(p.default)
            made = found is not None and not _immutable(found.value) and not _names_object(p.default)
            if found is not None and not made:
                out[p.name.value] = found.value
            elif made or _names_object(p.default) or _item_of_name(p.default):
                # (`acc=[]`: a new list each time the `def` runs, in every query and every turn of a
                # loop around it, shared by that function's calls: made where the def stands)
                loc = self.body.src.loc(p.default)
                value = self._arg(p.default, loc, p.name.value)
                key = f"__ayo_default_{id(fn)}_{p.name.value}"  # (found from any body inside: captured)
                self.body.env[key] = Traced(self.body.materialize(value, loc, p.name.value))
                out[p.name.value] = helper_defaults.DefaultAtDef(key)
        return out

    def _arg(self, e: cst.BaseExpression | Value, loc: SourceLoc, name: str) -> Value:
        if not isinstance(e, cst.BaseExpression):
            return e
        value = self.expr(e, loc, name)
        if isinstance(value, Static) and not _immutable(value.value) and not _names_object(e):
            # `[]`, `{}`, `dict(k=v)`: a new object at each call, as Python makes it (folded, one
            # list would be every call's and every query's)
            code, target = self.body.src.expr_code(e), self.body.src.target(e, name)
            return Traced(self.body.python_node(e, loc, [target], source=f"{target} = {code}", name=name))
        return value

    def _spreads_known(self, call: cst.Call) -> bool:
        """Whether every ``*xs``/``**kw`` of the call unpacks a value known now (a helper called
        with one that is not runs eagerly: its arguments are not known one by one)."""
        for a in call.args:
            value = unpacking.known(self.body, a.value) if a.star else None
            if a.star == "*" and not (isinstance(value, tuple | list) and len(value) <= 64):
                return False
            if a.star == "**" and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
                return False
        return True

    def packed(
        self, name: str, values: list[Value], keys: list[str] | None, loc: SourceLoc, *, fresh: bool = False
    ) -> Value:
        """A helper's ``*args`` tuple (``keys`` None) or ``**kwargs`` dict of the call's values;
        ``fresh``: made when the graph runs, even of values known now."""
        if all(isinstance(v, Static) for v in values) and not fresh:
            statics = [v.value for v in values if isinstance(v, Static)]
            return Static(tuple(statics) if keys is None else dict(zip(keys, statics, strict=True)))
        temps = [f"__ayo_{name}_{i}" for i in range(len(values))]
        for t, v in zip(temps, values, strict=True):
            self.body.temps[t] = v
        if keys is None:
            source = f"{name} = ({''.join(t + ', ' for t in temps)})"
        else:
            source = f"{name} = {{{', '.join(f'{k!r}: {t}' for k, t in zip(keys, temps, strict=True))}}}"
        node = self.body.python_node(cst.Pass(), loc, [name], source=source, reads=temps, name=name)
        for t in temps:
            del self.body.temps[t]
        return Traced(node)

    def check_depth(self, call: cst.Call, loc: SourceLoc, helper: FunctionSource | None) -> None:
        """Past ``MAX_INLINE_DEPTH``: a helper's calls run eagerly on a new trace
        (``RecursesAtRunTime``); a nested workflow's recursion is refused (run eagerly, it would be
        a query inside the query)."""
        if self.body.depth < MAX_INLINE_DEPTH:
            return
        message = _too_deep(self.body.src.code(call))
        if helper is not None:
            raise RecursesAtRunTime(def_key(helper), message)
        raise TraceError(message, loc=loc, construct="recursion")

    def _inlining(self, src: FunctionSource) -> int:
        """How many inlined calls of the function ``src`` the body being compiled is inside."""
        key = def_key(src)
        c: Any = self.body
        found = 0
        while c is not None:
            found += def_key(c.src) == key
            while c.parent is not None:
                c = c.parent
            c = c.caller
        return found


def _too_deep(call: str) -> str:
    return (
        f"`{call.strip()}` would inline helpers or workflows more than "
        f"{MAX_INLINE_DEPTH} calls deep: recursion unrolls at trace time only while it recurses "
        "on static arguments that reach the base case; make the argument that ends the "
        "recursion static (an int is), or loop instead of recursing"
    )


def _nothing_static(env: dict[str, Value]) -> bool:
    """Whether no argument of a call is known at trace time, nor an object of known class or fields
    (``Traced.cls``): a call of a function from inside its own inlined call with such arguments
    traces as the outer one did, and so on without end (``merge_sort(q, xs[:mid])``), so its
    recursion ends only when the workflow runs (``RecursesAtRunTime`` at once, not
    ``MAX_INLINE_DEPTH`` calls deep: each level traced again costs time). Not for a method,
    whose object may differ from call to call (``child.summarize()``)."""
    return all(isinstance(v, Traced) and v.cls is None and not v.fields for v in env.values())


def _names_object(e: cst.BaseExpression) -> bool:
    """Whether ``e`` names an object that exists (``shared``, ``CONFIG.cache``), rather than
    making one."""
    while isinstance(e, cst.Attribute):
        e = e.value
    return isinstance(e, cst.Name)


def _item_of_name(e: cst.BaseExpression) -> bool:
    """Whether ``e`` is an item of a name (``pair[0]``, ``row["k"]``) with a constant index."""
    while isinstance(e, cst.Subscript):
        index = e.slice[0].slice if len(e.slice) == 1 else None
        if not (isinstance(index, cst.Index) and isinstance(index.value, cst.Integer | cst.SimpleString)):
            return False
        e = e.value
    return isinstance(e, cst.Name)


def _reaches(c: Any, target: Any) -> bool:
    """Whether the compiler ``target`` is ``c`` or one of the bodies around it."""
    while c is not None:
        if c is target:
            return True
        c = c.parent if c.parent is not None else c.enclosing
    return False


def _binds_outer(src: FunctionSource) -> bool:
    """Whether the function ``src`` (defined outside the workflow) declares ``nonlocal`` in its own
    body: it binds a variable of the function that made it, which no graph node can."""
    return any(
        isinstance(n, cst.Nonlocal) for n in walk(src.node.body, lambda n: isinstance(n, cst.FunctionDef))
    )


def _few(items: Any) -> list[Any]:
    """The items of a tuple, list or dict's values of at most 16, else none."""
    if isinstance(items, dict):
        items = list(items.values())
    return list(items) if isinstance(items, tuple | list) and len(items) <= 16 else []
