"""``VLLMEngine``'s own logic on a fake vLLM, on the CPU (the real engine is tested on a GPU only).

The fake stands in for the three vLLM modules the adapter imports (``vllm``, its ``AsyncEngineArgs``
and the v1 ``AsyncLLM``) through ``sys.modules``, so ``VLLMEngine.start`` runs unchanged and the
adapter talks to an ``AsyncLLM``-like object: a whitespace tokenizer, prompts echoed back as
``prompt_logprobs`` of -1 per token, and a refusal (``ValueError``, as vLLM's input validation
raises) for any prompt holding the word ``refuse`` or any JSON schema titled ``Unsupported``; it
records the sampling parameters of every request.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from ayo_trace.backend.config import BatchPolicy
from ayo_trace.backend.engine_scheduler import EngineScheduler
from ayo_trace.backend.engines.base import DecodeRequest, PrefillRequest, ScoreRequest
from ayo_trace.errors import InvalidRequest
from ayo_trace.ir.params import SamplingParams
from ayo_trace.ir.parsers import output_parser

pytestmark = pytest.mark.anyio


class _Tokenizer:
    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"<bos>": 0}

    def encode(
        self, text: str, add_special_tokens: bool = True, split_special_tokens: bool = False
    ) -> list[int]:
        # words are the tokens; this vocabulary has no special tokens but BOS, so both splits agree
        ids = [self.vocab.setdefault(w, len(self.vocab)) for w in text.split()]
        return [0, *ids] if add_special_tokens else ids

    def decode(self, tokens: list[int], skip_special_tokens: bool = True) -> str:
        words = {i: w for w, i in self.vocab.items()}
        return " ".join(words[t] for t in tokens if t or not skip_special_tokens)


@dataclass
class _Logprob:
    logprob: float


@dataclass
class _Completion:
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str | None = "length"
    stop_reason: Any = None


@dataclass
class _Output:
    prompt_logprobs: list[dict[int, _Logprob] | None]
    num_cached_tokens: int = 0
    outputs: list[_Completion] = field(default_factory=lambda: [_Completion()])
    finished: bool = True


class _FakeAsyncLLM:
    def __init__(self) -> None:
        self.tokenizer = _Tokenizer()
        self.prompts: list[list[int]] = []
        self.params: list[Any] = []

    @classmethod
    def from_engine_args(cls, args: Any) -> _FakeAsyncLLM:
        return cls()

    def get_tokenizer(self) -> _Tokenizer:
        return self.tokenizer

    async def generate(self, prompt: Any, params: Any, request_id: str) -> AsyncIterator[_Output]:
        ids = prompt.prompt_token_ids
        await anyio.lowlevel.checkpoint()
        if self.tokenizer.vocab.get("refuse") in ids:
            raise ValueError(f"request {request_id} refused")
        constraint = getattr(params, "structured_outputs", None)
        if constraint is not None and constraint.json.get("title") == "Unsupported":
            raise ValueError("the grammar backend does not support this schema")
        self.params.append(params)
        self.prompts.append(ids)
        yield _Output(prompt_logprobs=[None] + [{t: _Logprob(-1.0)} for t in ids[1:]])

    async def abort(self, request_id: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    params = types.SimpleNamespace
    kinds = types.SimpleNamespace(FINAL_ONLY="final", DELTA="delta")
    modules = {
        "vllm": types.SimpleNamespace(SamplingParams=params, TokensPrompt=params),
        "vllm.engine": types.SimpleNamespace(),
        "vllm.engine.arg_utils": types.SimpleNamespace(AsyncEngineArgs=params),
        "vllm.v1": types.SimpleNamespace(),
        "vllm.v1.engine": types.SimpleNamespace(),
        "vllm.v1.engine.async_llm": types.SimpleNamespace(AsyncLLM=_FakeAsyncLLM),
        "vllm.sampling_params": types.SimpleNamespace(
            RequestOutputKind=kinds, StructuredOutputsParams=params
        ),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    yield


@pytest.fixture
async def engine(fake_vllm: None) -> AsyncIterator[Any]:
    from ayo_trace.backend.engines.vllm_llm import VLLMEngine

    async with VLLMEngine(model="fake", max_model_len=16) as engine:
        yield engine


TOO_LONG = ScoreRequest("word " * 20, " more")


async def test_a_score_too_long_for_the_context_raises_invalid_request_itself(engine: Any) -> None:
    with pytest.raises(InvalidRequest, match="does not fit the context window") as info:
        await engine.score([ScoreRequest("Passage: a b", " question"), TOO_LONG])
    assert type(info.value) is InvalidRequest  # not an ExceptionGroup, which callers cannot catch


async def test_a_refused_prefill_raises_invalid_request_itself(engine: Any) -> None:
    with pytest.raises(InvalidRequest, match="vLLM refused") as info:
        await engine.prefill([PrefillRequest("a", "fine words"), PrefillRequest("b", "please refuse this")])
    assert type(info.value) is InvalidRequest


async def test_the_scheduler_fails_only_the_invalid_request_of_a_score_batch(engine: Any) -> None:
    """The engine scheduler isolates an ``InvalidRequest``: it retries the batch one request at a time,
    so the valid request of the batch still gets its score and only the invalid one fails."""
    sched = EngineScheduler(engine, BatchPolicy(max_batch=2, max_wait_s=60.0))
    good = ScoreRequest("Passage: a b", " question words")
    outcome: dict[str, Any] = {}

    async def ask(key: str, req: ScoreRequest) -> None:
        try:
            outcome[key] = await sched.score(req)
        except Exception as exc:
            outcome[key] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask, "good", good)
        tg.start_soon(ask, "bad", TOO_LONG)
    assert outcome["good"] == -2.0  # two continuation tokens at -1 each
    assert type(outcome["bad"]) is InvalidRequest
    assert sched.batch_sizes[2] == 1  # they did go to the engine as one batch


class Pick(BaseModel):
    name: str


async def test_a_parse_constrains_the_decode_through_structured_outputs(engine: Any) -> None:
    parser = output_parser(list[Pick])
    assert parser is not None
    await engine.prefill([PrefillRequest("a", "pick one"), PrefillRequest("b", "pick two")])
    prefills = list(engine._llm.params)
    await engine.decode([DecodeRequest("a", parser.constrain(SamplingParams(max_tokens=8)))], 4)
    await engine.decode([DecodeRequest("b", SamplingParams(max_tokens=8))], 4)
    constrained, free = engine._llm.params[len(prefills) :]
    assert constrained.structured_outputs.json == json.loads(parser.schema)
    assert constrained.structured_outputs.disable_any_whitespace is True
    assert not hasattr(free, "structured_outputs")
    assert prefills and not any(hasattr(p, "structured_outputs") for p in prefills)  # warm-ups: free


async def test_a_schema_vllm_refuses_fails_the_decode_with_invalid_request(engine: Any) -> None:
    class Unsupported(BaseModel):
        name: str

    parser = output_parser(Unsupported)
    assert parser is not None
    await engine.prefill([PrefillRequest("a", "pick one")])
    with pytest.raises(InvalidRequest, match="does not support this schema") as info:
        await engine.decode([DecodeRequest("a", parser.constrain(SamplingParams(max_tokens=8)))], 4)
    assert type(info.value) is InvalidRequest
    await engine.release(["a"])
