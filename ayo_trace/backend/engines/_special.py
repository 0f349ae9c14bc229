"""Tokenizing a prompt whose special tokens are parsed in its markup only (``ir/prompt.py``).

The text is cut at every special (control) token that lies inside a markup span; those become
their single token ids, and every piece between them is tokenized as plain text, without parsing
special tokens, across markup and content boundaries alike. A prompt without markup is tokenized
exactly as before (one plain-text call). Since the cuts depend on the whole text and its markup
only, a session prefilled in parts tokenizes the same as the unsplit prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...ir.prompt import ChatTemplate, markup_of

# The special tokens in a markup text, in order, each as (its text, its id).
SpecialsIn = Callable[[str], list[tuple[str, int]]]


def split_special(text: str, specials_in: SpecialsIn) -> list[str | int]:
    """``text`` as plain-text pieces and the ids of the special tokens of its markup, in order."""
    cuts: list[tuple[int, int, int]] = []
    for a, b in markup_of(text):
        span = str(text)[a:b]
        at = 0
        for piece, tid in specials_in(span):
            i = span.find(piece, at) if piece else -1
            if i < 0:
                continue  # a tokenizer that rewrites the text around it: leave that piece to the text
            cuts.append((a + i, a + i + len(piece), tid))
            at = i + len(piece)
    out: list[str | int] = []
    pos = 0
    for s, e, tid in cuts:
        if s > pos:
            out.append(str(text)[pos:s])
        out.append(tid)
        pos = e
    if pos < len(text):
        out.append(str(text)[pos:])
    return out


def tokenize_prompt(
    text: str, bos: bool, tokenize: Callable[[str, bool], list[int]], specials_in: SpecialsIn
) -> list[int]:
    """Token ids of ``text``: ``tokenize(piece, bos)`` never parses special tokens; the special
    tokens of the markup spans come from ``specials_in``."""
    if not markup_of(text):
        return tokenize(str(text), bos)
    tokens = tokenize("", bos)  # BOS alone (or nothing)
    for piece in split_special(text, specials_in):
        tokens.extend([piece] if isinstance(piece, int) else tokenize(piece, False))
    return tokens


def hf_specials_in(tok: object, markup: str) -> list[tuple[str, int]]:
    """``SpecialsIn`` for a Hugging Face tokenizer: the special added tokens its parser finds."""
    decoder = getattr(tok, "added_tokens_decoder", {})
    ids: list[int] = tok.encode(markup, add_special_tokens=False)  # type: ignore[attr-defined]
    out = []
    for t in ids:
        added = decoder.get(t)
        if added is not None and getattr(added, "special", False):
            out.append((str(added.content), t))
    return out


def hf_chat_template(tok: Any, source: str | None, engine: str) -> ChatTemplate | None:
    """The chat template of a Hugging Face tokenizer (``source`` overrides it), or None."""
    origin = f"chat_template= of engine {engine!r}"
    if source is None:
        source = getattr(tok, "chat_template", None)
        origin = f"the tokenizer's chat_template (engine {engine!r})"
    if not isinstance(source, str) or not source:
        return None
    return ChatTemplate(source, tok.bos_token or "", tok.eos_token or "", origin)
