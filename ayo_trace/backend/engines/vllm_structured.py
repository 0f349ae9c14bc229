"""vLLM structured outputs: the constraint of ``parse=`` as vLLM's sampling parameters.

``parse=`` a pydantic model, a JSON schema or ``list[X]`` puts the schema into
``SamplingParams.json_schema`` (``ir/parsers.py``). vLLM constrains a request's tokens by the
``structured_outputs`` field of its own ``SamplingParams``, a ``StructuredOutputsParams`` (vLLM 0.12
and later; it replaced ``guided_decoding=GuidedDecodingParams(...)``) whose ``json`` is the schema.
``structured_outputs`` gives those parameters as plain data, so the mapping is tested without vLLM;
the adapter (``vllm_llm.py``) builds vLLM's object from them.

``disable_any_whitespace``: vLLM's JSON grammars otherwise allow any run of whitespace between
tokens, and a small model under greedy decoding can keep choosing newlines until ``max_tokens``
(llama.cpp's grammar here bounds it instead); the items and the validated value do not depend on
the whitespace.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import InvalidParams
from ...ir.params import SamplingParams


def structured_outputs(sampling: SamplingParams) -> dict[str, Any] | None:
    """The keyword arguments of vLLM's ``StructuredOutputsParams`` that constrain a decode to the
    JSON ``sampling`` asks for (``json_schema``, parsed), or None when it asks for none."""
    if sampling.json_schema is None:
        return None
    try:
        schema = json.loads(sampling.json_schema)
    except ValueError as exc:
        raise InvalidParams(f"json_schema is not JSON text: {exc}", param="json_schema") from exc
    if not isinstance(schema, dict):
        raise InvalidParams(f"json_schema must be a JSON object, got {schema!r}", param="json_schema")
    return {"json": schema, "disable_any_whitespace": True}


__all__ = ["structured_outputs"]
