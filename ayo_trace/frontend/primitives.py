"""The task primitives users call: ``llm``, ``embed``, ``ingest``, ``search``, ``rerank``.

Called directly (in ``eager`` mode, in a graph break, or outside any workflow), each primitive runs
at once on the current runtime. Inside an ``@ayo.workflow`` the tracer never calls them: it reads the
call from the source and records a node with the same meaning, so the function's signature here is
the contract for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import InvalidParams
from ..host import host
from ..ir.builtin_primitives import LLM, sampling_params
from ..ir.ops import register_primitive as _register_spec
from ..ir.params import Hit, SearchParams, check_collection, check_text, check_texts, check_top_k
from ..ir.parsers import output_parser
from ..ir.spec import PrimitiveSpec
from .chat import render_messages

F = TypeVar("F", bound=Callable[..., Any])


def _primitive(op: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.__ayo_primitive__ = op  # type: ignore[attr-defined]
        return fn

    return mark


def _runtime() -> Any:
    return host().runtime()


def _signed(spec: PrimitiveSpec) -> Callable[[F], F]:
    """Give the decorated function ``spec``'s signature (what the tracer binds calls against)."""

    def sign(fn: F) -> F:
        fn.__signature__ = spec.signature()  # type: ignore[attr-defined]
        return fn

    return sign


@_primitive("llm")
@_signed(LLM)
async def llm(
    prompt: str | None = None,
    *,
    messages: Sequence[Mapping[str, Any]] | None = None,
    parse: Any = None,
    engine: str | None = None,
    stream: bool = False,
    **sampling: Any,
) -> Any:
    """Complete ``prompt`` (greedy by default), or the chat ``messages`` (a list of
    ``{"role": "system" | "user" | "assistant", "content": str}``, or ``ayo.system/user/assistant``
    calls) rendered with the engine's chat template. With ``parse=ayo.lines`` or ``ayo.json_list`` the
    result is the list of parsed items, which decode pipelining can stream to the next step; with a
    pydantic model class (or a JSON schema dict) it is a validated instance, the output constrained to
    the schema where the engine can; with any other callable, ``parse(text)``. ``stream=True`` marks
    the call as an answer that ``wf.stream`` hands to its caller token by token (the call whose value
    the workflow returns is one without it); it changes nothing else. The sampling keywords are the
    fields of ``SamplingParams`` (``max_tokens=64``, ``temperature=0.0``, ``top_p=1.0``, ``stop``,
    ``seed``), checked by it."""
    if prompt is not None and messages is not None:
        raise InvalidParams("ayo.llm() takes a prompt or messages=, exactly one of them", param="prompt")
    if messages is not None:
        rt = _runtime()
        await rt.ensure_started()
        prompt = render_messages(rt.chat_template(engine), messages)
    check_text(prompt, "prompt")
    params = sampling_params(**sampling)
    parser = output_parser(parse)
    if parser is not None:
        params = parser.constrain(params)
    return await _runtime().llm(prompt, params, parse=parser, engine=engine)


@_primitive("embed")
async def embed(texts: str | list[str], *, engine: str | None = None) -> Any:
    """A vector for a string, or a list of vectors for a list of strings."""
    check_texts(texts)
    return await _runtime().embed(texts, engine=engine)


@_primitive("ingest")
async def ingest(
    passages: list[str],
    *,
    collection: str,
    engine: str | None = None,
    embed_engine: str | None = None,
) -> int:
    """Embed ``passages`` and insert them into ``collection`` in one transaction (idempotent:
    passages the collection already holds are skipped), creating the collection if needed (an empty
    list creates it empty). Returns the number of new rows."""
    check_collection(collection)
    return int(await _runtime().ingest(passages, collection, engine=engine, embed_engine=embed_engine))


@_primitive("search")
async def search(
    query: str,
    *,
    collection: str,
    top_k: int = 4,
    engine: str | None = None,
    embed_engine: str | None = None,
) -> list[Hit]:
    """The ``top_k`` passages of ``collection`` nearest to ``query``, best first. A collection never
    created (no ``ingest`` into it yet, or dropped) raises ``UnknownCollection``."""
    check_text(query, "query")
    params = SearchParams(collection=collection, top_k=top_k)
    return list(await _runtime().search(query, params, engine=engine, embed_engine=embed_engine))


@_primitive("rerank")
async def rerank(
    query: str, passages: Sequence[str | Hit], *, top_k: int = 3, engine: str | None = None
) -> list[Hit]:
    """The ``top_k`` most relevant of ``passages`` (strings or hits) for ``query``, best first."""
    check_text(query, "query")
    check_top_k(top_k)
    return list(await _runtime().rerank(query, list(passages), top_k, engine=engine))


def register_primitive(spec: PrimitiveSpec) -> Callable[..., Any]:
    """Add the primitive ``spec`` describes (``ir.spec.PrimitiveSpec``) and return its function:
    awaited inside a workflow it traces to a ``spec.name`` node; called directly it sends one
    request to ``spec.engine_method`` of an engine of ``spec.engine_kind`` on the current runtime.
    Its arguments are ``spec.params`` (data ones positional, the others by keyword)."""
    _register_spec(spec)
    signature = spec.signature()

    async def call(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        try:  # its static values are checked as the tracer checks them
            spec.node_attrs({k: v for k, v in values.items() if k not in spec.names("data")})
        except InvalidParams:
            raise
        except (ValueError, TypeError) as err:
            raise InvalidParams(f"{spec.name}(): {err}", param=spec.name) from err
        return await _runtime().call(spec, values)

    call.__name__ = call.__qualname__ = spec.name
    call.__doc__ = f"The registered primitive {spec.name!r} (see ``register_primitive``)."
    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__ayo_primitive__ = spec.name  # type: ignore[attr-defined]
    return call
