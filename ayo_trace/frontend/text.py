"""Strings built from traced values (f-strings, ``+``, ``str.format``, ``sep.join([...])``) kept as
constant text and holes, so the prompts made from them become templates."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import libcst as cst

from ..ir.code import SourceLoc
from ..ir.graph import Node
from ..ir.template import Hole
from .builder import Expressions
from .values import Static, Text, pieces_of


class TextBuilding(Expressions):
    def as_text(self, e: cst.BaseExpression, loc: SourceLoc, materialize: Callable[[], Node]) -> Text | None:
        """A ``Text`` for a string built from traced values by f-string, ``+``, ``str.format`` or
        ``sep.join([...])``; None when ``e`` is not such an expression."""
        parts = self._text_parts(e, loc)
        if parts is None or all(isinstance(p, str) for p in parts):
            return None
        return Text(parts, materialize)

    def _text_parts(self, e: cst.BaseExpression, loc: SourceLoc) -> list[str | Hole[Node]] | None:
        if isinstance(e, cst.FormattedString):
            if "b" in e.prefix.lower():
                return None
            out: list[str | Hole[Node]] = []
            for part in e.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(_unescape_fstring_text(part.value, e.prefix))
                    continue
                assert isinstance(part, cst.FormattedStringExpression)
                spec = ""
                if part.format_spec:
                    if not all(isinstance(s, cst.FormattedStringText) for s in part.format_spec):
                        return None
                    spec = "".join(
                        s.value for s in part.format_spec if isinstance(s, cst.FormattedStringText)
                    )
                conv = part.conversion
                value = self.expr(part.expression, loc, "field")
                if part.equal is not None:
                    return None
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
            halves = [self._literal_parts(e.left, loc), self._literal_parts(e.right, loc)]
            if halves[0] is None or halves[1] is None:
                return None
            return halves[0] + halves[1]
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, cst.Add):
            left = self._text_operand(e.left, loc)
            right = self._text_operand(e.right, loc)
            if left is None or right is None:
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
                return self._format_parts(receiver.value, e.args, loc)
            if method == "join" and len(e.args) == 1 and isinstance(e.args[0].value, cst.List | cst.Tuple):
                elems = e.args[0].value.elements
                if any(isinstance(x, cst.StarredElement) for x in elems):
                    return None
                out = []
                for i, el in enumerate(elems):
                    if i:
                        out.append(receiver.value)
                    operand = self._text_operand(el.value, loc)
                    if operand is None:
                        return None
                    out.extend(operand)
                return out
        return None

    def _literal_parts(self, e: cst.BaseExpression, loc: SourceLoc) -> list[str | Hole[Node]] | None:
        """One side of an implicit concatenation: a plain literal's text, an f-string's parts."""
        if isinstance(e, cst.SimpleString):
            value = e.evaluated_value
            return [value] if isinstance(value, str) else None
        return self._text_parts(e, loc)

    def _stringy(self, e: cst.BaseExpression) -> bool:
        return isinstance(e, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString) or (
            isinstance(e, cst.BinaryOperation) and (self._stringy(e.left) or self._stringy(e.right))
        )

    def _text_operand(self, e: cst.BaseExpression, loc: SourceLoc) -> list[str | Hole[Node]] | None:
        if isinstance(e, cst.FormattedString | cst.BinaryOperation | cst.Call):
            parts = self._text_parts(e, loc)
            if parts is not None:
                return parts
        value = self.expr(e, loc, "part")
        return pieces_of(value, "str")

    def _format_parts(self, fmt: str, args: Any, loc: SourceLoc) -> list[str | Hole[Node]] | None:
        positional = [a.value for a in args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in args if a.keyword is not None}
        if any(a.star for a in args):
            return None
        out: list[str | Hole[Node]] = []
        auto = 0
        try:
            parsed = list(string.Formatter().parse(fmt))
        except ValueError:
            return None
        for literal, field, spec, conv in parsed:
            out.append(literal)
            if field is None:
                continue
            if spec and "{" in spec:
                return None
            if field == "":
                if auto >= len(positional):
                    return None
                expr, auto = positional[auto], auto + 1
            elif field.isdigit():
                if int(field) >= len(positional):
                    return None
                expr = positional[int(field)]
            elif field.isidentifier() and field in keywords:
                expr = keywords[field]
            else:
                return None  # attribute or index lookups in the field: leave it to Python
            value = self.expr(expr, loc, field or "field")
            if isinstance(value, Static):
                v = value.value
                v = _convert(v, conv)
                out.append(format(v, spec or ""))
            else:
                out.append(Hole(self.body.materialize(value, loc, "field"), "format", conv, spec or ""))
        return out

    # --- awaits ------------------------------------------------------------------------------------


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
