"""Constrained decoding on llama.cpp: a grammar sampler built from a JSON schema.

``SamplingParams.json_schema`` (set by ``parse=`` a pydantic model or a schema) becomes a GBNF
grammar (``llama_cpp.llama_grammar.json_schema_to_gbnf``, llama.cpp's own converter) and a
``llama_sampler_init_grammar`` sampler per session. Before each sample the grammar masks the tokens
it does not allow; after it, the chosen token advances the grammar. Greedy decoding asks the
grammar about the best 64 tokens first, then the best 4096, and about the whole vocabulary only when
none of them is allowed: the best allowed token is the same either way, and masking Gemma's
262k-token vocabulary takes about 0.2 s here. Sampling with a temperature masks the whole vocabulary.
"""

from __future__ import annotations

import ctypes
import json
from typing import Any

import numpy as np

from ...errors import InvalidParams

TIERS = (64, 4096)  # the best tokens asked first, in growing tiers, before the whole vocabulary
# llama_token_data as numpy lays it out: the candidates array is filled without a Python loop
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class GrammarConstraint:
    """One session's grammar state. ``close`` frees it (idempotent)."""

    def __init__(self, lib: Any, vocab: Any, schema: str) -> None:
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        try:
            gbnf = json_schema_to_gbnf(json.dumps(json.loads(schema)))
        except Exception as exc:  # the converter raises plain errors for schemas it cannot express
            raise InvalidParams(
                f"llama.cpp cannot build a grammar from this JSON schema: {exc}", param="parse"
            ) from exc
        self._lib = lib
        self._sampler = lib.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._sampler:
            raise InvalidParams("llama.cpp refused the grammar built from this JSON schema", param="parse")

    def mask(self, logits: np.ndarray, greedy: bool) -> np.ndarray:
        """``logits`` with every token the grammar does not allow now set to -inf. Greedy: only the
        allowed tokens of the first tier (of the best tokens) that holds any are kept; the best
        allowed token is among them, so the choice is the same as over the whole vocabulary."""
        ids = np.arange(logits.shape[0])
        if greedy and logits.shape[0] > TIERS[-1]:
            best = np.argpartition(-logits, TIERS[-1])[: TIERS[-1]]
            best = best[np.argsort(-logits[best], kind="stable")]
            for k in TIERS:
                allowed = self._allowed(best[:k], logits)
                if allowed.size:
                    ids = allowed
                    break
            else:
                ids = self._allowed(ids, logits)
        else:
            ids = self._allowed(ids, logits)
        out = np.full_like(logits, -np.inf)
        out[ids] = logits[ids]
        return out

    def _allowed(self, ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        lib = self._lib
        buf = np.empty(ids.shape[0], dtype=_TOKEN_DATA)
        buf["id"] = ids
        buf["logit"] = logits[ids]
        buf["p"] = 0.0
        data = ctypes.cast(buf.ctypes.data, ctypes.POINTER(lib.llama_token_data))
        arr = lib.llama_token_data_array(data, buf.shape[0], -1, False)
        lib.llama_sampler_apply(self._sampler, ctypes.byref(arr))
        kept = buf[: arr.size]
        return kept["id"][np.isfinite(kept["logit"])].astype(np.int64)

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._lib.llama_sampler_free(self._sampler)
            self._sampler = None
