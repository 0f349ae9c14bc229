"""Strings built from traced values (f-strings, ``+``, ``str.format``, ``sep.join([...])``) kept as
constant text and holes, so the prompts made from them become templates."""

from __future__ import annotations

import keyword
import string
from collections.abc import Callable
from typing import Any

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.template import Hole
from . import aliases, closures
from .builder import Expressions
from .folding import _written_by_user, writer_changes, writers_change_state
from .state import contains_await, walk
from .values import Static, Text, Traced, Value, pieces_of
from .visiting import visit

# The parts of an expression evaluated while its string was built, by the id of their syntax: the
# string is made whole from these values, never by evaluating them again (Python evaluates each once).
Made = dict[int, tuple[cst.BaseExpression, Value]]

# makes the node of the whole expression from its code with the parts evaluated already replaced by
# names, and the ids of the parts replaced (``python_node``'s ``source`` and ``exclude``)
MakeNode = Callable[[str, frozenset[int]], Node]


class TextBuilding(Expressions):
    def as_text(
        self, e: cst.BaseExpression, loc: SourceLoc, name: str, stmt: cst.CSTNode | None = None
    ) -> Text | Traced | None:
        """A ``Text`` for a string built from traced values by f-string, ``+``, ``str.format`` or
        ``sep.join([...])``; None when ``e`` is not such an expression. Its holes are evaluated here,
        once, in Python's order: made whole, a node binding ``name`` (running ``stmt``, the
        assignment of ``e``, if given) reads them, with the parts replaced by names, and reads
        names as bound here. Not a string after its parts were evaluated (``stack.pop() +
        stack.pop()``): a node made at once from them (``Traced``)."""
        make = self._part_node(e, loc, name)
        if stmt is not None:
            make = lambda code, exclude: self.body.python_node(  # noqa: E731
                stmt, loc, [name], source=f"{name} = {code}", exclude=exclude, name=name
            )
        made: Made = {}
        parts = self._text_parts(e, loc, made)
        if parts is None or all(isinstance(p, str) for p in parts):
            if not _evaluated(made):
                return None
            return Traced(self._rebuilt(e, loc, made, make))
        if any(not isinstance(p, str) and id(p.arg) in self.body.deps.formatted_now for p in parts):
            # a hole formatted where the string is built (``_formatted_now``): made whole from the
            # parts, not by running the statement again later (which would format the object then)
            return Text(parts, lambda: self._joined(parts, loc))
        return Text(parts, lambda: self._rebuilt(e, loc, made, make))

    def _rebuilt(self, e: cst.BaseExpression, loc: SourceLoc, made: Made, make: MakeNode) -> Node:
        """The node ``make`` makes of ``e`` reading the values ``made`` holds: a name as bound when
        the string was built (a temporary of the same name), any other part by a temporary of its
        node in its place."""
        try:
            local, other = self.body.src.free_names(e)
        except KeyError:  # (code the compiler made)
            local, other = [], []
        # every part's node first (a part that is itself a string built from parts is made here,
        # before any temporary of this string's is bound: `p = f"Q: {q2}"` of `q2 = q + " x"`)
        nodes = [(sub, self.body.materialize(value, loc, "part")) for sub, value in made.values()]
        taken = {*local, *other, *self.body.temps}
        bound: dict[str, Value] = {}
        replaced: dict[int, cst.BaseExpression] = {}
        for i, (sub, node) in enumerate(nodes):
            if isinstance(sub, cst.Name):
                bound[sub.value] = Traced(node)  # (as bound when the string was built, whatever now)
                continue
            temp = node.name
            if not temp.isidentifier() or keyword.iskeyword(temp) or temp in taken:
                temp = f"__ayo_part{i}"
            taken.add(temp)
            bound[temp] = Traced(node)
            replaced[id(sub)] = cst.Name(temp)
        before = {t: self.body.temps[t] for t in bound if t in self.body.temps}
        self.body.temps.update(bound)

        class Replace(cst.CSTTransformer):
            def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> Any:
                return replaced.get(id(original), updated)

        try:
            new = e.visit(Replace()) if replaced else e
            assert isinstance(new, cst.BaseExpression)
            return make(self.body.src.expr_code(new), frozenset(replaced))
        finally:
            for temp in bound:
                del self.body.temps[temp]
            self.body.temps.update(before)

    def _part_node(self, e: cst.BaseExpression, loc: SourceLoc, hint: str) -> MakeNode:
        """``make`` for a part of a string: a node binding ``hint`` (or ``hint_``) to it."""
        target = self.body.src.target(e, hint)
        return lambda code, exclude: self.body.python_node(
            e, loc, [target], source=f"{target} = {code}", exclude=exclude, name=hint
        )

    def _evaluate(self, e: cst.BaseExpression, loc: SourceLoc, hint: str, made: Made) -> Value:
        """``e``'s value as a part of a string, kept in ``made`` (a constant, read again, is not)."""
        value = self.expr(e, loc, hint)
        if isinstance(e, cst.Name) or not isinstance(value, Static):
            made[id(e)] = (e, value)
        return value

    def _joined(self, parts: list[str | Hole[Node]], loc: SourceLoc) -> Node:
        """A node making the string of ``parts`` as Python's f-string, ``+`` or ``format`` makes it."""
        pieces: list[str] = []
        names: list[str] = []
        for p in parts:
            if isinstance(p, str):
                pieces.append(repr(p))
                continue
            name = f"__ayo_part{len(names)}"
            self.body.temps[name] = Traced(p.arg)
            names.append(name)
            if p.kind == "str":
                pieces.append(f"('' + {name})")
                continue
            convert = {"r": "repr", "s": "str", "a": "ascii"}.get(p.conversion or "")
            pieces.append(f"format({f'{convert}({name})' if convert else name}, {p.spec!r})")
        node = self.body.python_node(
            cst.Pass(),
            loc,
            ["text"],
            source=f"text = {' + '.join(pieces) or repr('')}",
            reads=names,
            name="text",
        )
        for name in names:
            del self.body.temps[name]
        return node

    def _written_by_user(self, e: cst.BaseExpression) -> bool:
        """Whether field ``e`` is an object known now whose class of the user's writes it
        (``__str__``/``__repr__``/``__format__``, ``folding._written_by_user``), or a container
        naming one: Python formats it where the f-string stands, each time (its code may read state
        that changes, or count its calls), so ``_formatted_now`` formats it by a node there."""
        static = self.try_static(e)
        if static is not None:
            return _written_by_user(static.value, 0)
        module = getattr(self.body.src.fn, "__globals__", {})
        for n in walk(e):  # (`[OBJ, OBJ]`, not known as a whole: the objects it names)
            if not isinstance(n, cst.Name):
                continue
            bound = (
                aliases.peek(self.body, n.value)
                if self.body.is_bound(n.value)
                else Static(module.get(n.value))
            )
            if isinstance(bound, Static) and _written_by_user(bound.value, 0):
                return True
            if not isinstance(bound, Traced) or bound.node.op in _KNOWN_VALUES:
                continue
            # (formatted where a map's items run at once, a class writing with code changing state
            # would show it: an object the workflow makes, `c = Chunk(t)`, or an item of
            # `[Chunk(i, w) ...]`, whose class is not known here)
            if bound.cls is not None and writer_changes(bound.cls):
                return True
            if bound.cls is None and writers_change_state(module, _called_names(self.body.src)):
                return True
        return False

    def _text_parts(self, e: cst.BaseExpression, loc: SourceLoc, made: Made) -> list[str | Hole[Node]] | None:
        if isinstance(e, cst.FormattedString):
            if not _plain_fstring(e):
                return None
            out: list[str | Hole[Node]] = []
            for part in e.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(_unescape_fstring_text(part.value, e.prefix))
                    continue
                assert isinstance(part, cst.FormattedStringExpression)
                spec = "".join(
                    s.value for s in part.format_spec or () if isinstance(s, cst.FormattedStringText)
                )
                conv = part.conversion
                if (held := self._formatted_now(part.expression, conv, spec, loc)) is not None:
                    out.append(held)
                    continue
                value = self._evaluate(part.expression, loc, "field", made)
                if isinstance(value, Static):
                    v = value.value
                    v = _convert(v, conv)
                    out.append(format(v, spec))
                elif isinstance(value, Text) and not conv and not spec:
                    out.extend(value.parts)
                else:
                    node = self.body.materialize(value, loc, "field")
                    out.append(Hole(node, "format", conv, spec))
            return out
        if isinstance(
            e, cst.ConcatenatedString
        ):  # "text" f"{q}" written side by side, on one line or several
            if not (_literal(e.left) and _literal(e.right)):
                return None
            halves = [self._literal_parts(e.left, loc, made), self._literal_parts(e.right, loc, made)]
            if halves[0] is None or halves[1] is None:
                return None
            return halves[0] + halves[1]
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Add):
            left = self._text_operand(e.left, loc, made)
            if left is None:  # (not a string: the right is left to Python, not evaluated here)
                return None
            right = self._text_operand(e.right, loc, made)
            if right is None:
                return None
            if not any(isinstance(p, str) for p in left + right) and not (
                self._stringy(e.left) or self._stringy(e.right)
            ):
                return None
            return left + right
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute):
            method = e.func.attr.value
            receiver = self.try_static(e.func.value)
            if receiver is None or not isinstance(receiver.value, str):
                return None
            if method == "format":
                return self._format_parts(receiver.value, e.args, loc, made)
            if method == "join" and len(e.args) == 1 and isinstance(e.args[0].value, cst.List | cst.Tuple):
                elems = e.args[0].value.elements
                if any(isinstance(x, cst.StarredElement) for x in elems):
                    return None
                out = []
                for i, el in enumerate(elems):
                    if i:
                        out.append(receiver.value)
                    operand = self._text_operand(el.value, loc, made)
                    if operand is None:
                        return None
                    out.extend(operand)
                return out
        return None

    def _literal_parts(
        self, e: cst.BaseExpression, loc: SourceLoc, made: Made
    ) -> list[str | Hole[Node]] | None:
        """One side of an implicit concatenation: a plain literal's text, an f-string's parts."""
        if isinstance(e, cst.SimpleString):
            value = e.evaluated_value
            return [value] if isinstance(value, str) else None
        return self._text_parts(e, loc, made)

    def _stringy(self, e: cst.BaseExpression) -> bool:
        return isinstance(e, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString) or (
            isinstance(e, cst.BinaryOperation) and (self._stringy(e.left) or self._stringy(e.right))
        )

    def _text_operand(
        self, e: cst.BaseExpression, loc: SourceLoc, made: Made
    ) -> list[str | Hole[Node]] | None:
        if isinstance(e, cst.FormattedString | cst.BinaryOperation | cst.Call):
            inner: Made = {}
            parts = self._text_parts(e, loc, inner)
            if parts is not None:
                made.update(inner)
                return parts
            if _evaluated(inner):  # (not a string, its parts evaluated: one node of them)
                value: Value = Traced(self._rebuilt(e, loc, inner, self._part_node(e, loc, "part")))
                made[id(e)] = (e, value)
                return pieces_of(value, "str")
        return pieces_of(self._evaluate(e, loc, "part", made), "str")

    def _format_parts(self, fmt: str, args: Any, loc: SourceLoc, made: Made) -> list[str | Hole[Node]] | None:
        """``fmt.format(...)``'s text and holes. Python evaluates each argument once, as written,
        then formats: so are they here (a call no field uses: left to Python)."""
        if any(a.star for a in args):
            return None
        positional = [a.value for a in args if a.keyword is None]
        keywords = [(a.keyword.value, a.value) for a in args if a.keyword is not None]
        written = positional + [e for _, e in keywords]
        names: list[str | None] = [None] * len(positional) + [k for k, _ in keywords]
        try:
            parsed = list(string.Formatter().parse(fmt))
        except ValueError:
            return None
        fields: list[tuple[str, int | None, str | None, str]] = []  # (text, argument, conversion, spec)
        auto = 0
        for literal, field, spec, conv in parsed:
            if field is None:
                fields.append((literal, None, None, ""))
                continue
            if spec and "{" in spec:
                return None
            if field == "":
                i, auto = auto, auto + 1
            elif field.isdigit():
                i = int(field)
            elif field.isidentifier() and field in names:
                i = names.index(field)
            else:
                return None  # attribute or index lookups in the field: leave it to Python
            if i >= (len(positional) if not field.isidentifier() else len(written)):
                return None
            fields.append((literal, i, conv, spec or ""))
        uses = [[f for f in fields if f[1] == i] for i in range(len(written))]
        if not all(uses):
            return None
        holes: dict[tuple[int, str | None, str], str | Hole[Node]] = {}
        for i, (e, use) in enumerate(zip(written, uses, strict=True)):
            if len(use) == 1 and (held := self._formatted_now(e, use[0][2], use[0][3], loc)) is not None:
                holes[(i, use[0][2], use[0][3])] = held
                continue
            value = self._evaluate(e, loc, names[i] or "field", made)
            for _, _, conv, spec in use:
                if isinstance(value, Static):
                    holes[(i, conv, spec)] = format(_convert(value.value, conv), spec)
                else:
                    holes[(i, conv, spec)] = Hole(
                        self.body.materialize(value, loc, "field"), "format", conv, spec
                    )
        out: list[str | Hole[Node]] = []
        for literal, arg, conv, spec in fields:
            out.append(literal)
            if arg is not None:
                out.append(holes[(arg, conv, spec)])
        return out

    def _formatted_now(
        self, e: cst.BaseExpression, conv: str | None, spec: str, loc: SourceLoc
    ) -> Hole[Node] | None:
        """A hole of an object the workflow may change in place later (``f"History: {history}"``
        then ``history.append(...)``: ``aliases.changed_anywhere``; a module's ``f"{HISTORY}"`` the
        workflow or a helper it inlines changes: ``closures.reads_changed``), formatted by a node of its own
        where the string is built, as Python formats it then; so is an object known now whose class
        of the user's writes it (``_written_by_user``: its code may read state that changes, or
        count its calls), in program order with the workflow's effects. None for any other hole
        (the text formats it where it is used: same value)."""
        written = not contains_await(e) and self._written_by_user(e)
        root = e
        while isinstance(root, cst.Attribute | cst.Subscript):
            root = root.value
        if not written:
            if not isinstance(root, cst.Name) or contains_await(e):
                return None
            name = root.value
            if self.body.is_bound(name):
                if name not in aliases.changed_anywhere(self.body.src):
                    return None
            elif not closures.reads_changed(self.body, [name]):
                return None  # (a module's name: formatted now when the workflow changes its object)
        code = self.body.src.expr_code(e)
        convert = {"r": "repr", "s": "str", "a": "ascii"}.get(conv or "")
        source = f"field = format({f'{convert}({code})' if convert else code}, {spec!r})"
        # (an object writing itself with code of the user's: in program order with the effects,
        # as what that code reads or changes is not seen here)
        node = self.body.python_node(e, loc, ["field"], source=source, name="field", effect=written)
        self.body.deps.formatted_now[id(node)] = node
        return Hole(node, "format", None, "")

    # --- awaits ------------------------------------------------------------------------------------


def _called_names(src: Any) -> set[str]:
    """The names the workflow's code calls (``Chunk`` of ``Chunk(i, w)``, ``models.Chunk``'s
    ``Chunk``), in comprehensions and nested functions too; kept on ``src``."""
    if src.called is None:
        found: set[str] = set()

        class V(cst.CSTVisitor):
            def visit_Call(self, n: cst.Call) -> None:
                if isinstance(n.func, cst.Name):
                    found.add(n.func.value)
                elif isinstance(n.func, cst.Attribute):
                    found.add(n.func.attr.value)

        visit(src.node, V())
        src.called = found
    return src.called


# (what these hand back is never an object of the user's: a text, vectors, hits)
_KNOWN_VALUES = frozenset({"llm", "llm_decode", "embed", "search", "rerank"})


def _evaluated(made: Made) -> bool:
    """Whether building the string evaluated a part (not only read names)."""
    return any(not isinstance(sub, cst.Name) for sub, _ in made.values())


def _plain_fstring(e: cst.FormattedString) -> bool:
    """An f-string this module takes apart: not bytes, no ``{x=}``, no field in a format spec."""
    return "b" not in e.prefix.lower() and all(
        isinstance(part, cst.FormattedStringText)
        or (
            isinstance(part, cst.FormattedStringExpression)
            and part.equal is None
            and all(isinstance(s, cst.FormattedStringText) for s in part.format_spec or ())
        )
        for part in e.parts
    )


def _literal(e: cst.BaseExpression) -> bool:
    """A side of an implicit concatenation this module takes apart (checked before any is)."""
    if isinstance(e, cst.SimpleString):
        return isinstance(e.evaluated_value, str)
    if isinstance(e, cst.FormattedString):
        return _plain_fstring(e)
    return isinstance(e, cst.ConcatenatedString) and _literal(e.left) and _literal(e.right)


def _convert(value: Any, conversion: str | None) -> Any:
    if conversion == "r":
        return repr(value)
    if conversion == "s":
        return str(value)
    if conversion == "a":
        return ascii(value)
    return value


def _unescape_fstring_text(text: str, prefix: str) -> str:
    text = text.replace("{{", "{").replace("}}", "}")
    if "r" in prefix.lower():
        return text
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
