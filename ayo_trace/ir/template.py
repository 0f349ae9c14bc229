"""Prompt templates: constant text with holes, known at trace time.

A template is what an f-string, ``str.format``, ``+`` or ``"".join`` over traced values becomes. Its
holes point at the node's arguments by index, so the constant text (and where each hole sits) is
known before any input arrives: prefill splitting needs exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .params import check_text
from .prompt import Markup, Prompt

A = TypeVar("A")


@dataclass(frozen=True)
class Hole(Generic[A]):
    """A value slot. In a ``Template``, ``arg`` indexes the owning node's ``args``; while the
    frontend builds a string from traced values, it is the node itself (``Template`` then numbers
    them), so a hole is rendered the same way at both stages.

    ``kind="format"`` renders like an f-string field (``conversion`` then ``format(value, spec)``);
    ``kind="str"`` is a ``+`` operand and must already be a ``str`` (as Python's ``+`` demands);
    ``kind="prompt"`` is a whole prompt passed as a value (``ayo.llm(x)``): it must be a ``str`` too,
    as the eager call demands (``InvalidParams``), and prints like a plain field;
    ``kind="content"`` is a chat message's whole content (``{"role": ..., "content": x}``): a ``str``
    (``InvalidParams`` otherwise), rendered as plain text (stripped when ``spec == "strip"``, for a
    chat template that trims contents).
    """

    arg: A
    kind: str = "format"
    conversion: str | None = None
    spec: str = ""

    def render(self, value: Any) -> str:
        if self.kind == "prompt":
            return check_text(value, "prompt")
        if self.kind == "content":
            text = str(check_text(value, "message content"))
            return text.strip() if self.spec == "strip" else text
        if self.kind == "str":
            if not isinstance(value, str):
                raise TypeError(f'can only concatenate str (not "{type(value).__name__}") to str')
            return value
        if self.conversion == "r":
            value = repr(value)
        elif self.conversion == "s":
            value = str(value)
        elif self.conversion == "a":
            value = ascii(value)
        return format(value, self.spec)


@dataclass(frozen=True)
class Template:
    """Constant strings and holes, in order. Adjacent strings of the same kind (plain text, or a chat
    template's ``Markup``) are merged on construction."""

    parts: tuple[str | Hole, ...]

    def __post_init__(self) -> None:
        merged: list[str | Hole] = []
        for p in self.parts:
            if isinstance(p, str):
                if not p:
                    continue
                last = merged[-1] if merged else None
                if isinstance(last, str) and isinstance(last, Markup) == isinstance(p, Markup):
                    merged[-1] = Markup(last + p) if isinstance(p, Markup) else str(last) + str(p)
                    continue
            merged.append(p)
        object.__setattr__(self, "parts", tuple(merged))

    @property
    def holes(self) -> tuple[Hole, ...]:
        return tuple(p for p in self.parts if isinstance(p, Hole))

    @property
    def prefix(self) -> str:
        """The constant text before the first hole ('' when the prompt starts with a hole)."""
        return "".join(self.leading_text)

    @property
    def leading_text(self) -> tuple[str, ...]:
        """The constant parts before the first hole (plain text and ``Markup``, in order)."""
        n = next((i for i, p in enumerate(self.parts) if not isinstance(p, str)), len(self.parts))
        return tuple(p for p in self.parts[:n] if isinstance(p, str))

    def render(self, values: Sequence[Any]) -> str:
        """The prompt, given the values of the owning node's args: a ``Prompt`` that marks the
        ``Markup`` parts when there are any, else a ``str``. Hole values are plain text, but for a
        whole prompt that is a ``Prompt`` already (chat messages rendered when the workflow ran,
        as ``ayo.llm`` called eagerly renders them), whose markup it keeps."""
        return Prompt.join(p if isinstance(p, str) else _text(p, values[p.arg]) for p in self.parts)

    def remap(self, mapping: dict[int, int]) -> Template:
        """The same template with hole arg indices renumbered through ``mapping``."""
        return Template(
            tuple(
                p if isinstance(p, str) else Hole(mapping[p.arg], p.kind, p.conversion, p.spec)
                for p in self.parts
            )
        )

    def show(self, names: Sequence[str]) -> str:
        """An f-string-like rendering with ``%name`` holes, for the graph printer."""
        out = []
        for p in self.parts:
            if isinstance(p, Markup):
                out.append("\u27e6" + repr(str(p))[1:-1].replace("{", "{{").replace("}", "}}") + "\u27e7")
            elif isinstance(p, str):
                out.append(repr(p)[1:-1].replace("{", "{{").replace("}", "}}").replace('"', '\\"'))
            else:
                conv = f"!{p.conversion}" if p.conversion else ""
                spec = f":{p.spec}" if p.spec else ""
                mark = {"str": "+", "content": "@"}.get(p.kind, "")
                out.append("{" + mark + "%" + names[p.arg] + conv + spec + "}")
        return 'f"' + "".join(out) + '"'

    @staticmethod
    def constant(text: str) -> Template:
        return Template((text,))


def _text(hole: Hole[int], value: Any) -> str:
    rendered = hole.render(value)
    return rendered if hole.kind == "prompt" and isinstance(rendered, Prompt) else str(rendered)
