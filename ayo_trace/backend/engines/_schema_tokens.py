"""Constrained decoding for a Hugging Face tokenizer: the tokens a JSON schema allows next.

``SamplingParams.json_schema`` (set by ``parse=`` a pydantic model, a schema or a list) constrains
the transformers engine's decode the way llama.cpp's grammar sampler constrains its own
(``_grammar.py``): before each sample every token the schema does not allow next is masked, and the
chosen token advances the state. The character-level JSON-schema parser and the walk over the
vocabulary are ``lm-format-enforcer``'s (a well-kept library, also one of vLLM's guided-decoding
backends; the ``structured`` extra). Its own transformers integration imports names that
transformers 5 no longer has, so the vocabulary table it needs is built here from the tokenizer: each
token's text after a token that starts no word, and whether it starts one.

Building that table walks the whole vocabulary once per engine (about 5-10 s for Gemma's 262k tokens
on 2 cores), on the first constrained decode, in the engine's worker thread. Without the library the
engine decodes unconstrained and the output is only validated, as before.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import numpy as np

from ...errors import InvalidParams

log = logging.getLogger("ayo_trace.engines")
MAX_BLANKS = 4  # consecutive whitespace characters allowed between JSON tokens


def available() -> bool:
    """Whether ``lm-format-enforcer`` is installed."""
    try:
        import lmformatenforcer  # noqa: F401
    except ImportError:
        return False
    return True


class Vocabulary:
    """The tokenizer's table for the parser, built once on first use (thread-safe)."""

    def __init__(self, tokenizer: Any) -> None:
        self._tok = tokenizer
        self._data: Any = None
        self._lock = threading.Lock()

    def data(self) -> Any:
        with self._lock:
            if self._data is None:
                self._data = self._build()
            return self._data

    def _build(self) -> Any:
        from lmformatenforcer import TokenEnforcerTokenizerData

        tok = self._tok
        n = len(tok)
        specials = set(tok.all_special_ids)
        # A token's text after "0" (which starts no word) shows the space a word-start token carries.
        zero = tok.encode("0", add_special_tokens=False)[-1]
        after = tok.batch_decode([[zero, i] for i in range(n)])
        alone = tok.batch_decode([[i] for i in range(n)])
        regular = [
            (i, after[i][1:], len(after[i]) - 1 > len(alone[i])) for i in range(n) if i not in specials
        ]

        def decode(tokens: list[int]) -> str:
            text: str = tok.decode(tokens)
            return text.rstrip("\ufffd")  # an incomplete UTF-8 sequence is not text yet

        return TokenEnforcerTokenizerData(regular, decode, tok.eos_token_id, False, n)


class SchemaConstraint:
    """One session's state under a JSON schema (``mask``, ``accept``, ``close``, as ``_grammar``)."""

    def __init__(self, vocabulary: Vocabulary, schema: str) -> None:
        from lmformatenforcer import CharacterLevelParserConfig, JsonSchemaParser, TokenEnforcer

        # Whitespace runs bounded (the library's default allows 12): a small model under greedy
        # decoding otherwise spends tokens on blank lines between fields.
        config = CharacterLevelParserConfig(max_consecutive_whitespaces=MAX_BLANKS)
        try:
            parser = JsonSchemaParser(json.loads(schema), config)
        except Exception as exc:  # the parser raises plain errors for schemas it cannot follow
            raise InvalidParams(
                f"cannot constrain decoding to this JSON schema: {exc}", param="parse"
            ) from exc
        self._enforcer = TokenEnforcer(vocabulary.data(), parser)
        self._eos = vocabulary.data().eos_token_id
        self._tokens: list[int] = []

    def mask(self, logits: np.ndarray, greedy: bool) -> np.ndarray:
        """``logits`` with every token the schema does not allow next set to -inf (once the value is
        complete: the end of sequence and a bounded run of blanks; if nothing can follow, the end)."""
        allowed = list(self._enforcer.get_allowed_tokens(self._tokens).allowed_tokens) or [self._eos]
        ids = np.asarray(allowed, dtype=np.int64)
        ids = ids[ids < logits.shape[0]]
        out = np.full_like(logits, -np.inf)
        out[ids] = logits[ids]
        return out

    def accept(self, token: int) -> None:
        self._tokens.append(token)

    def close(self) -> None:
        self._tokens = []


_warned: set[str] = set()


def constraint_for(vocabulary: Vocabulary | None, schema: str, engine: str) -> SchemaConstraint | None:
    """The constraint for ``schema``, or None (logged once per engine) without the library."""
    if vocabulary is None:
        if engine not in _warned:
            _warned.add(engine)
            log.warning(
                "engine %s: lm-format-enforcer is not installed (pip install 'ayo-trace[structured]'): "
                "parse= output is validated but generation is not constrained",
                engine,
            )
        return None
    return SchemaConstraint(vocabulary, schema)


__all__ = ["SchemaConstraint", "Vocabulary", "available", "constraint_for"]
