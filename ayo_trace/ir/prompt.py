"""Prompt text that says where special tokens may be parsed.

A chat template's own text (``<start_of_turn>user\\n``) holds control tokens the model must see as
single tokens; the messages' contents are data and must never turn into control tokens, whatever
they contain (no injection of turns through an input). ``Markup`` marks a constant template part as
the chat template's text; a template renders to a ``Prompt``: a ``str`` that remembers the
character spans of its markup. Engines parse special tokens inside those spans only and tokenize
every other character as text.

Both are ``str`` subclasses, so code that only reads text (cost estimates, prefix keys, printing)
keeps working, and any string operation that builds new text (``+``, ``strip``, an f-string) gives
a plain ``str``: text whose markup is lost is tokenized as text, the safe direction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Span = tuple[int, int]


class Markup(str):
    """Constant template text written by a chat template: engines parse special tokens in it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Markup({str.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Markup, (str(self),))


class Prompt(str):
    """Rendered prompt text with the spans (``[start, end)``) of its markup."""

    markup: tuple[Span, ...]

    def __new__(cls, text: str, markup: Iterable[Span] = ()) -> Prompt:
        self = super().__new__(cls, text)
        spans = tuple((int(a), int(b)) for a, b in markup if b > a)
        if any(a < 0 or b > len(text) for a, b in spans):
            raise ValueError(f"markup span out of range for a text of {len(text)} characters")
        self.markup = spans
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Prompt, (str(self), self.markup))

    @staticmethod
    def join(parts: Iterable[str]) -> str:
        """The concatenation of ``parts``; a ``Prompt`` whose markup is every ``Markup`` part and the
        markup of every ``Prompt`` part, or a plain ``str`` when there is none."""
        text: list[str] = []
        spans: list[Span] = []
        at = 0
        for p in parts:
            if isinstance(p, Markup):
                spans.append((at, at + len(p)))
            elif isinstance(p, Prompt):
                spans.extend((at + a, at + b) for a, b in p.markup)
            text.append(p)
            at += len(p)
        joined = "".join(text)
        return Prompt(joined, merge_spans(spans)) if spans else joined


def markup_of(text: str) -> tuple[Span, ...]:
    """The markup spans of ``text`` (none for a plain ``str``)."""
    if isinstance(text, Markup):
        return ((0, len(text)),) if text else ()
    return text.markup if isinstance(text, Prompt) else ()


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sorted spans with touching and overlapping ones merged."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


@dataclass(frozen=True)
class ChatTemplate:
    """A model's chat template: Jinja ``source`` (as in a tokenizer's ``chat_template`` or a GGUF's
    ``tokenizer.chat_template``) and the ``bos_token``/``eos_token`` texts it may print. ``origin``
    says where it came from (for messages)."""

    source: str
    bos_token: str = ""
    eos_token: str = ""
    origin: str = ""
