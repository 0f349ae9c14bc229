"""The LLM engine contract (``ayo_trace.backend.engines.base``) on the real CPU engines.

Every test runs on llama.cpp, on transformers and on the OpenAI-compatible engine through a local
llama.cpp server (``engine``, see ``conftest.py``; tests marked ``in_process`` on the first two only),
all serving the shipped Gemma 3 270M (a base model, so prompts are completion-style). Sessions get a fresh name per
test (``sid``) and are released at the end, so tests do not depend on each other's leftovers.
"""

from __future__ import annotations

import itertools
import uuid

import anyio
import pytest

from ayo_trace.backend.engines.base import DecodeRequest, LLMEngine, PrefillRequest, ScoreRequest
from ayo_trace.backend.engines.llama_cpp import PREFILL_BLOCK, LlamaCppEngine
from ayo_trace.backend.engines.openai_llm import OpenAILLM
from ayo_trace.errors import InvalidRequest, Overloaded
from ayo_trace.ir.params import SamplingParams

from .sessions import batching, complete, generate

pytestmark = [pytest.mark.real, pytest.mark.anyio]

FRANCE = "Question: What is the capital of France?\nAnswer:"
# Longer than two of llama.cpp's 64-token prefill blocks before any cut, so later parts can reuse KV.
RAG = (
    "Context: The Champ de Mars is a large public green space in Paris, France, located in the seventh "
    "arrondissement, between the Eiffel Tower to the northwest and the Ecole Militaire to the southeast. "
    "The park is named after the Campus Martius in Rome, a tribute to the Roman god of war. The name "
    "alludes to the fact that the lawns here were formerly used as drilling and marching grounds by "
    "the French military. The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris. "
    "It was designed by the company of Gustave Eiffel and completed in 1889.\n"
    "Question: Who designed the Eiffel Tower?\nAnswer:"
)


async def test_answers_paris_to_a_completion_style_question(engine: LLMEngine, sid) -> None:
    out = await complete(engine, sid(), FRANCE, SamplingParams(max_tokens=8, stop=("\n",)))
    assert out.strip() == "Paris"


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param((len(RAG) // 2,), id="two-parts"),
        pytest.param((RAG.index("Gustave") + 3, RAG.index("Question")), id="three-parts-mid-word"),
        pytest.param((RAG.index("Answer:"), len(RAG) - 1), id="split-before-last-char"),
    ],
)
async def test_split_prefill_gives_the_greedy_output_of_one_prefill(engine: LLMEngine, sid, cuts) -> None:
    params = SamplingParams(max_tokens=6)
    full = await complete(engine, sid(), RAG, params)
    split = sid()
    bounds = [0, *cuts, len(RAG)]
    results = []
    for a, b in itertools.pairwise(bounds):
        results += await engine.prefill([PrefillRequest(split, RAG[a:b])])
    assert await generate(engine, split, params) == full
    if isinstance(engine, OpenAILLM):
        return  # it holds no KV: its decode sends the whole prompt (docs/remote-engines.md)
    assert all(r.n_cached > 0 for r in results[1:]), "later parts must reuse the earlier KV"
    # A later part recomputes the token(s) its boundary may merge; llama.cpp recomputes from the start
    # of the 64-token block the boundary falls in (that is what makes its output split-independent).
    redo = PREFILL_BLOCK if isinstance(engine, LlamaCppEngine) else 2
    assert sum(r.n_tokens for r in results) < engine.count_tokens(RAG) + 1 + redo * len(cuts)


@pytest.mark.in_process
async def test_released_session_frees_its_cache(engine: LLMEngine, sid) -> None:
    before = engine.stats()
    name = sid()
    await engine.prefill([PrefillRequest(name, RAG)])
    held = engine.stats()
    assert held["sessions"] == before["sessions"] + 1
    assert held["kv_tokens"] == before["kv_tokens"] + engine.count_tokens(RAG) + 1
    if isinstance(engine, LlamaCppEngine):
        assert (await engine.seq_lengths())[name] == engine.count_tokens(RAG) + 1
        assert held["free_slots"] == before["free_slots"] - 1
    await engine.release([name, "never-existed"])
    after = engine.stats()
    assert (after["sessions"], after["kv_tokens"]) == (before["sessions"], before["kv_tokens"])
    if isinstance(engine, LlamaCppEngine):
        assert name not in await engine.seq_lengths()
        assert after["free_slots"] == before["free_slots"]


async def test_batch_of_one_decodes_exactly_like_a_lone_session(engine: LLMEngine, sid) -> None:
    params = SamplingParams(max_tokens=8)
    a, b = sid(), sid()
    await engine.prefill([PrefillRequest(a, FRANCE), PrefillRequest(b, RAG)])
    lone = await complete(engine, sid(), FRANCE, params)
    assert await generate(engine, a, params, step=3) == lone


@pytest.mark.in_process
async def test_batched_decode_is_reproducible_and_starts_like_single_decodes(
    engine: LLMEngine, sid, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four sessions decoded in one batch.

    Neither engine is batch-invariant: llama.cpp's kernels reduce in a batch-dependent order, and
    transformers runs a batch as one padded matrix product, so greedy continuations in batches may
    drift from single-sequence ones after some tokens (llama.cpp: after about 8 tokens in batches of
    4, DESIGN.md). So the batch is checked against the same batch replayed (exactly) and its first
    tokens against single decodes. The prompts are prefilled one per model call (``batching=False``)
    so that only the decode is batched: a batched prefill may already change the first token.
    """
    monkeypatch.setattr(engine, "batching", False)
    prompts = [FRANCE, RAG, "The opposite of hot is", "1, 2, 3, 4,"]
    params = SamplingParams(max_tokens=8)

    async def batched() -> list[str]:
        names = [sid() for _ in prompts]
        await engine.prefill([PrefillRequest(n, p) for n, p in zip(names, prompts, strict=True)])
        outs = [""] * len(names)
        for _ in range(params.max_tokens):
            chunks = await engine.decode([DecodeRequest(n, params) for n in names], 1)
            outs = [o + c.text for o, c in zip(outs, chunks, strict=True)]
        await engine.release(names)
        return outs

    first, replay = await batched(), await batched()
    assert first == replay
    singles = [await complete(engine, sid(), p, params) for p in prompts]
    assert [o[:6] for o in first] == [s[:6] for s in singles]


async def test_releasing_one_session_leaves_the_rest_of_its_batch_decoding(engine: LLMEngine, sid) -> None:
    long, short = sid(), sid()
    await engine.prefill([PrefillRequest(long, "Once upon a time"), PrefillRequest(short, FRANCE)])
    asked = SamplingParams(max_tokens=200)
    chunks = []

    async def run() -> None:
        chunks.extend(await engine.decode([DecodeRequest(long, asked), DecodeRequest(short, asked)], 200))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.sleep(0.3)
        await engine.release([long])
    released, kept = chunks
    assert (released.done, released.finish_reason) == (True, "abort")
    assert kept.n_tokens > released.n_tokens  # it went on after the release
    alone = await complete(engine, sid(), FRANCE, SamplingParams(max_tokens=min(kept.n_tokens, 8)))
    assert kept.text[:6] == alone[:6]  # (the first tokens suffice: a slow engine decodes 200 twice)


async def test_release_while_decoding_stops_the_work(engine: LLMEngine, sid) -> None:
    name = sid()
    await engine.prefill([PrefillRequest(name, "Once upon a time")])
    start = engine.stats()["generated_tokens"]
    chunks = []

    async def run() -> None:
        chunks.extend(await engine.decode([DecodeRequest(name, SamplingParams(max_tokens=500))], 500))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await anyio.sleep(0.5)
        await engine.release([name])
    (chunk,) = chunks
    assert (chunk.done, chunk.finish_reason) == (True, "abort")
    assert 0 < chunk.n_tokens < 500
    assert engine.stats()["generated_tokens"] - start == chunk.n_tokens
    assert name not in getattr(engine, "_sessions", {})


async def test_cancelled_decode_returns_at_once_and_frees_the_engine(engine: LLMEngine, sid) -> None:
    name = sid()
    await engine.prefill([PrefillRequest(name, "Once upon a time")])
    with anyio.move_on_after(0.5) as scope:
        await engine.decode([DecodeRequest(name, SamplingParams(max_tokens=500))], 500)
    assert scope.cancelled_caught
    generated = engine.stats()["generated_tokens"]
    out = await complete(engine, sid(), FRANCE, SamplingParams(max_tokens=4, stop=("\n",)))
    assert out.strip() == "Paris"
    # the abandoned decode (500 tokens asked) stopped within a step: since the cancel the engine
    # generated the new answer's few tokens and at most the step that was in flight
    assert engine.stats()["generated_tokens"] - generated < 50, "the abandoned decode kept running"


async def test_overlong_prompt_raises_and_leaves_the_session_as_it_was(engine: LLMEngine, sid) -> None:
    name = sid()
    params = SamplingParams(max_tokens=4, stop=("\n",))
    await engine.prefill([PrefillRequest(name, "Question: What is the capital of France?")])
    with pytest.raises(InvalidRequest, match=rf"session '{name}'.*does not fit the context window"):
        await engine.prefill([PrefillRequest(name, " very" * engine.context_length)])
    await engine.prefill([PrefillRequest(name, "\nAnswer:")])
    assert (await generate(engine, name, params)).strip() == "Paris"


async def test_stop_strings_are_cut_and_partial_stops_released(engine: LLMEngine, sid) -> None:
    plain = await complete(engine, sid(), FRANCE, SamplingParams(max_tokens=6))
    assert plain.startswith(" Paris\n")
    cut = await complete(engine, sid(), FRANCE, SamplingParams(max_tokens=6, stop=("\nQuest", "is the")))
    assert cut == " Paris"
    # "Parisian" is never produced, but "Paris" looks like its start until "\n" arrives.
    name = sid()
    await engine.prefill([PrefillRequest(name, FRANCE)])
    params = SamplingParams(max_tokens=6, stop=("Parisian",))
    chunks = []
    while not (chunks and chunks[-1].done):
        chunks += await engine.decode([DecodeRequest(name, params)], 1)
    assert "".join(c.text for c in chunks) == plain
    # the token " Paris" releases only " ", and "Paris" follows with the next token "\n"
    assert (chunks[0].text, chunks[0].n_tokens) == (" ", 1), chunks
    assert chunks[1].text.startswith("Paris\n"), chunks


async def test_multibyte_text_streams_whole_characters(engine: LLMEngine, sid) -> None:
    prompt = "English: cat\nJapanese: 猫\nEnglish: dog\nJapanese: 犬\nEnglish: water\nJapanese:"
    params = SamplingParams(max_tokens=6, stop=("\n",))
    whole = await complete(engine, sid(), prompt, params)
    name = sid()
    await engine.prefill([PrefillRequest(name, prompt)])
    pieces = []
    while True:
        (chunk,) = await engine.decode([DecodeRequest(name, params)], 1)
        pieces.append(chunk.text)
        if chunk.done:
            break
    assert "".join(pieces) == whole
    assert any(ord(c) > 0x2FFF for c in whole), whole
    assert all("\ufffd" not in p for p in pieces)


@pytest.mark.in_process
@pytest.mark.parametrize("batched", [True, False], ids=["batching", "exact"])
async def test_score_prefers_the_right_answer(engine: LLMEngine, batched: bool) -> None:
    reqs = [ScoreRequest(FRANCE, " Paris"), ScoreRequest(FRANCE, " London"), ScoreRequest(RAG, " Gustave")]
    with batching(engine, batched):
        batch = await engine.score(reqs)
    assert batch[0] > batch[1]
    assert all(s < 0 for s in batch)


@pytest.mark.in_process
async def test_without_batching_a_score_does_not_depend_on_the_batch(engine: LLMEngine) -> None:
    reqs = [
        ScoreRequest(RAG, " Gustave Eiffel"),
        ScoreRequest(FRANCE, " Paris"),
        ScoreRequest(FRANCE, " Rome"),
        ScoreRequest(FRANCE, ""),
    ]
    with batching(engine, False):
        batch = await engine.score(reqs)
        assert batch == [(await engine.score([r]))[0] for r in reqs]  # bit-equal, not approximately
        assert batch == (await engine.score(reqs[::-1]))[::-1]
    assert batch[-1] == 0.0  # an empty continuation
    # A batch of one is evaluated alone in both modes.
    assert [(await engine.score([r]))[0] for r in reqs] == batch


async def test_seeded_sampling_is_reproducible(engine: LLMEngine, sid) -> None:
    params = SamplingParams(max_tokens=5, temperature=0.9, top_p=0.95, seed=7)
    assert await complete(engine, sid(), FRANCE, params) == await complete(engine, sid(), FRANCE, params)


async def test_llama_refuses_a_session_past_its_slots(llama_engine: LlamaCppEngine) -> None:
    names = [f"slot-{i}-{uuid.uuid4().hex[:6]}" for i in range(llama_engine.stats()["free_slots"])]
    try:
        await llama_engine.prefill([PrefillRequest(n, "Hi") for n in names])
        with pytest.raises(Overloaded, match="no free sequence slot"):
            await llama_engine.prefill([PrefillRequest("one-too-many", "Hi")])
        with pytest.raises(Overloaded):
            await llama_engine.score([ScoreRequest("Hi", " there")])
    finally:
        await llama_engine.release(names)
    assert llama_engine.stats()["free_slots"] == len(names)


async def test_llama_keeps_live_sessions_on_the_lowest_sequence_ids(llama_engine: LlamaCppEngine) -> None:
    """llama.cpp batches only consecutive sequence ids in one micro-batch (non-unified cache), so a
    freed slot is reused lowest first, a session prefilled ahead of time takes the highest, and the
    ids of the sessions that decode now stay dense."""
    names = [f"dense-{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]
    try:
        await llama_engine.prefill([PrefillRequest(n, "Hi") for n in names])
        seqs = [llama_engine._sessions[n].seq for n in names]
        await llama_engine.release([names[0], names[2]])  # a stack would hand out names[2]'s slot next
        again = f"again-{uuid.uuid4().hex[:6]}"
        names.append(again)
        await llama_engine.prefill([PrefillRequest(again, "Hi")])
        assert llama_engine._sessions[again].seq == min(seqs[0], seqs[2]) == min(seqs)
        idle = f"ahead-{uuid.uuid4().hex[:6]}"  # prefilled ahead of time: it idles, so it goes on top
        names.append(idle)
        highest_free = llama_engine._free[-1]
        await llama_engine.prefill([PrefillRequest(idle, "Hi", ahead=True)])
        assert llama_engine._sessions[idle].seq == highest_free
    finally:
        await llama_engine.release(names)


async def test_llama_moves_idle_sessions_out_of_the_decoding_window(llama_engine: LlamaCppEngine) -> None:
    """Decoding sessions on ids 0, 2, 4, 6 with idle ones between them and one id free: no window is
    free of idle sessions, so the idle ones are moved out of the way (a chain of queued KV copies).
    The decoding sessions then generate what sessions prefilled straight into the ids they were moved
    to generate (llama.cpp's kernels round by a row's place in the batch, so that is the exact
    reference), and the idle ones what they would have alone."""
    prompts = [FRANCE, RAG, "The opposite of hot is", "1, 2, 3, 4,"]
    idle_texts = ["The capital of Italy is", "The capital of Spain is", "The capital of Japan is"]
    params = SamplingParams(max_tokens=8)
    tag = uuid.uuid4().hex[:6]
    assert len(llama_engine._free) == 8, "the engine holds sessions of another test"

    async def decode(names: list[str]) -> list[str]:
        chunks = await llama_engine.decode([DecodeRequest(n, params) for n in names], 8)
        return [c.text for c in chunks]

    async def prefill_in_order(names: list[str], texts: dict[str, str]) -> None:
        for n in names:  # one at a time: each takes the lowest free id
            await llama_engine.prefill([PrefillRequest(n, texts[n])])

    # The reference: other sessions on ids 0-3 and the decoding ones straight on 4-7 (q2, q0, q3, q1),
    # where the gathering below leaves them.
    ref = [f"r{i}-{tag}" for i in range(4)]
    pad = [f"pad{i}-{tag}" for i in range(4)]
    texts = dict(zip(ref, prompts, strict=True)) | dict.fromkeys(pad, "Hello")
    await prefill_in_order([*pad, ref[2], ref[0], ref[3], ref[1]], texts)
    expected = await decode(ref)
    await llama_engine.release(ref + pad)
    lone = [
        await complete(llama_engine, f"lone{i}-{tag}", text, SamplingParams(max_tokens=6))
        for i, text in enumerate(idle_texts)
    ]
    await llama_engine.release([f"lone{i}-{tag}" for i in range(3)])

    decoders = [f"q{i}-{tag}" for i in range(4)]
    idle = [f"i{i}-{tag}" for i in range(3)]
    texts = dict(zip(decoders, prompts, strict=True)) | dict(zip(idle, idle_texts, strict=True))
    try:
        await prefill_in_order(
            [decoders[0], idle[0], decoders[1], idle[1], decoders[2], idle[2], decoders[3]], texts
        )
        assert [llama_engine._sessions[n].seq for n in decoders] == [0, 2, 4, 6]
        assert await decode(decoders) == expected
        assert [llama_engine._sessions[n].seq for n in decoders] == [5, 7, 4, 6]
        assert [await generate(llama_engine, n, SamplingParams(max_tokens=6)) for n in idle] == lone
    finally:
        await llama_engine.release(decoders + idle)


async def test_llama_gathers_scattered_decoding_sessions_into_one_batch(llama_engine: LlamaCppEngine) -> None:
    """Sessions that decode together are moved onto consecutive sequence ids first (one micro-batch),
    which neither changes what they generate nor touches the sessions they were scattered between."""
    prompts = [FRANCE, RAG, "The opposite of hot is", "1, 2, 3, 4,"]
    params = SamplingParams(max_tokens=12)
    tag = uuid.uuid4().hex[:6]

    async def batch(names: list[str]) -> list[str]:
        outs = [""] * len(names)
        for _ in range(3):
            chunks = await llama_engine.decode([DecodeRequest(n, params) for n in names], 4)
            outs = [o + c.text for o, c in zip(outs, chunks, strict=True)]
        return outs

    # One prefill per session in both setups: llama.cpp's kernels may round a prefill of several
    # sequences differently from one of each (they did on an AMD EPYC), and greedy decoding then
    # diverges; what this test compares is the decoding, dense against gathered.
    dense = [f"dense{i}-{tag}" for i in range(4)]
    for n, p in zip(dense, prompts, strict=True):
        await llama_engine.prefill([PrefillRequest(n, p)])
    expected = await batch(dense)
    await llama_engine.release(dense)

    # q0 f0 q1 q2 q3 take consecutive slots (lowest first): the filler splits the q's. The engine has
    # 8 slots, so the gathered window must use the free ones above.
    decoders = [f"q{i}-{tag}" for i in range(4)]
    fillers = [f"f0-{tag}"]
    order = [decoders[0], fillers[0], *decoders[1:]]
    texts = dict(zip(decoders, prompts, strict=True)) | dict.fromkeys(fillers, "The capital of Italy is")
    try:
        for n in order:
            await llama_engine.prefill([PrefillRequest(n, texts[n])])
        scattered = [llama_engine._sessions[n].seq for n in decoders]
        assert max(scattered) - min(scattered) == 4
        moved = llama_engine.stats()["sessions_moved"]
        assert await batch(decoders) == expected
        assert llama_engine.stats()["sessions_moved"] > moved
        gathered = sorted(llama_engine._sessions[n].seq for n in decoders)
        assert gathered == list(range(gathered[0], gathered[0] + 4))
        fillers.append(f"lone-{tag}")  # released with the others below
        lone = await complete(
            llama_engine, fillers[-1], "The capital of Italy is", SamplingParams(max_tokens=6)
        )
        assert await generate(llama_engine, fillers[0], SamplingParams(max_tokens=6)) == lone
    finally:
        await llama_engine.release(decoders + fillers)
