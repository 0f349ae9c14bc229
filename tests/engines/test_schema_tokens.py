"""The transformers engine's JSON-schema constraint (``engines/_schema_tokens.py``) on the shipped
model's tokenizer: every token of a valid value is allowed at its step, a token that breaks the
schema is masked, only the end of sequence (or a bounded run of blanks) remains once the value is complete; without
lm-format-enforcer the engine says so once and decodes unconstrained."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pytest

from ayo_trace.backend.engines._schema_tokens import SchemaConstraint, constraint_for
from ayo_trace.errors import InvalidParams

pytestmark = [pytest.mark.real, pytest.mark.anyio]

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "tags"],
    }
)


def _vocabulary(engine: Any) -> Any:
    assert engine._vocabulary is not None, "lm-format-enforcer is installed in the test environment"
    return engine._vocabulary


async def test_each_token_of_a_valid_value_is_allowed_and_then_only_the_end(transformers_engine: Any) -> None:
    tok = transformers_engine._tok
    c = SchemaConstraint(_vocabulary(transformers_engine), SCHEMA)
    size = len(tok)
    first = c.mask(np.zeros(size, dtype=np.float32), greedy=True)
    assert np.isfinite(first).sum() < 100  # a value starts with '{' (and maybe whitespace) only
    for t in tok.encode('{"name": "Rome", "tags": ["old", "big"]}', add_special_tokens=False):
        masked = c.mask(np.zeros(size, dtype=np.float32), greedy=True)
        assert np.isfinite(masked[t]), tok.decode([t])
        c.accept(t)
    allowed = set(np.flatnonzero(np.isfinite(c.mask(np.zeros(size, dtype=np.float32), greedy=True))))
    assert tok.eos_token_id in allowed  # the value is complete: it may end here
    assert all(not tok.decode([t]).strip() for t in allowed - {tok.eos_token_id})  # or trail blanks


async def test_a_token_that_breaks_the_schema_is_masked(transformers_engine: Any) -> None:
    tok = transformers_engine._tok
    c = SchemaConstraint(_vocabulary(transformers_engine), SCHEMA)
    masked = c.mask(np.zeros(len(tok), dtype=np.float32), greedy=False)
    [word] = tok.encode("Hello", add_special_tokens=False)[:1]
    assert np.isinf(masked[word])  # a value must start with '{'
    for t in tok.encode('{"tags"', add_special_tokens=False):  # ... and 'name' is not optional first
        c.accept(t)
    assert np.isfinite(c.mask(np.zeros(len(tok), dtype=np.float32), greedy=True)).any()


async def test_a_schema_the_parser_cannot_follow_is_invalid_params(transformers_engine: Any) -> None:
    with pytest.raises(InvalidParams):
        SchemaConstraint(_vocabulary(transformers_engine), "{not json")


def test_without_the_library_the_engine_warns_once_and_does_not_constrain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ayo_trace.engines"):
        assert constraint_for(None, SCHEMA, "no-enforcer-engine") is None
        assert constraint_for(None, SCHEMA, "no-enforcer-engine") is None
    assert sum("lm-format-enforcer is not installed" in r.message for r in caplog.records) == 1
