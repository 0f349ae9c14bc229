"""Settings passed the way users pass them: ``**params`` dicts unpacked into a primitive, helpers with
keyword-only parameters, ``*args`` and ``**kwargs``, and graph constants read from fields of a
dataclass, ``NamedTuple`` or ``TypedDict`` argument (a guard on the field's value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict

import ayo_trace as ayo

from . import case

DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]
SHORT = {"max_tokens": 3, "stop": "\n"}


@ayo.workflow
async def local_params_unpacked(question: str) -> str:
    params = {"max_tokens": 4, "stop": "\n"}
    draft = await ayo.llm(f"Q: {question}\nA:", **params)
    return await ayo.llm(f"Improve: {draft}", **params)


@ayo.workflow
async def module_params_unpacked(question: str) -> str:
    return await ayo.llm(f"Q: {question}", temperature=0.0, **SHORT)


@ayo.workflow
async def search_options_from_dict_call(question: str, docs: list[str]) -> list[str]:
    await ayo.ingest(docs, collection="kb")
    opts = dict(collection="kb", top_k=2)
    return [h.text for h in await ayo.search(question, **opts)]


async def summarize(text: str, *, words: int = 5, prefix: str = "Summary") -> str:
    return await ayo.llm(f"{prefix} in {words} words: {text}", max_tokens=words)


@ayo.workflow
async def keyword_only_helper(docs: list[str]) -> list[str]:
    return [await summarize(d, words=3) for d in docs] + [await summarize(docs[0])]


async def ask_all(*questions: str, sep: str = " | ", **labels: str) -> str:
    answers = []
    for q in questions:
        answers.append(await ayo.llm(f"Q: {q}", max_tokens=2))
    tail = "".join(f" {k}={v}" for k, v in labels.items())
    return sep.join(answers) + tail


@ayo.workflow
async def star_args_helper(first: str, second: str) -> str:
    both = await ask_all(first, second, topic="python")
    fixed = await ask_all("what is a list", sep="-")
    return both + fixed


@dataclass
class RagConfig:
    collection: str = "kb"
    top_k: int = 2
    max_tokens: int = 4
    stops: list[str] = field(default_factory=lambda: ["\n"])


class Target(NamedTuple):
    collection: str
    k: int


class Sampling(TypedDict):
    max_tokens: int
    stop: str


@ayo.workflow
async def dataclass_settings(question: str, docs: list[str], cfg: RagConfig) -> str:
    await ayo.ingest(docs, collection=cfg.collection)
    hits = await ayo.search(question, collection=cfg.collection, top_k=cfg.top_k)
    context = "\n".join(h.text for h in hits)
    return await ayo.llm(f"{context}\nQ: {question}", max_tokens=cfg.max_tokens, stop=cfg.stops)


@ayo.workflow
async def namedtuple_target(question: str, docs: list[str], target: Target) -> list[str]:
    await ayo.ingest(docs, collection=target.collection)
    return [h.text for h in await ayo.search(question, collection=target.collection, top_k=target.k)]


@ayo.workflow
async def typeddict_sampling(question: str, sampling: Sampling) -> str:
    return await ayo.llm(f"Q: {question}", max_tokens=sampling["max_tokens"], stop=sampling["stop"])


async def retrieve(question: str, cfg: RagConfig) -> list[str]:
    return [h.text for h in await ayo.search(question, collection=cfg.collection, top_k=cfg.top_k)]


@ayo.workflow
async def settings_through_a_helper(question: str, docs: list[str], cfg: RagConfig) -> list[str]:
    await ayo.ingest(docs, collection=cfg.collection)
    return await retrieve(question, cfg)


CASES = [
    case(local_params_unpacked, "how do generators work"),
    case(module_params_unpacked, "what is a list"),
    case(search_options_from_dict_call, "what yields", DOCS),
    case(keyword_only_helper, DOCS),
    case(star_args_helper, "what", "why"),
    case(dataclass_settings, "what yields", DOCS, RagConfig()),
    case(dataclass_settings, "what yields", DOCS, RagConfig("kb_other", 1, 3), label="dataclass_other"),
    case(namedtuple_target, "what holds", DOCS, Target("notes", 2)),
    case(typeddict_sampling, "what awaits", Sampling(max_tokens=3, stop="\n")),
    case(settings_through_a_helper, "what yields", DOCS, RagConfig(collection="helpers")),
]
