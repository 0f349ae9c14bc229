"""Loops: tuple targets over zip/enumerate/items, break/continue/else, while on traced values."""

from __future__ import annotations

import ayo_trace as ayo


@ayo.workflow
async def enumerate_zip_pairs(questions: list[str], docs: list[str]) -> list[str]:
    answers = []
    for i, (q, d) in enumerate(zip(questions, docs, strict=False)):
        a = await ayo.llm(f"{i + 1}. Context: {d}\nQuestion: {q}\nAnswer:", max_tokens=8)
        answers.append(f"{i}:{a.strip()}")
    return answers


@ayo.workflow
async def zip_grade(questions: list[str], docs: list[str]) -> dict[str, str]:
    grades = {}
    for q, d in zip(questions, docs, strict=False):
        grades[q] = await ayo.llm(f"Does '{d}' answer '{q}'? yes or no:", max_tokens=2)
    return grades


@ayo.workflow
async def items_rewrite(sections: dict[str, str]) -> str:
    out = ""
    for title, body in sections.items():
        short = await ayo.llm(f"Shorten the section {title}: {body}\nShort:", max_tokens=8)
        out += f"## {title}\n{short}\n"
    return out


@ayo.workflow
async def first_relevant(question: str, docs: list[str]) -> str:
    found = "none"
    for doc in docs:
        verdict = await ayo.llm(f"Is '{doc}' relevant to '{question}'? Say yes or no:", max_tokens=2)
        if "y" in verdict or "a" in verdict:
            found = doc
            break
    return found


@ayo.workflow
async def skip_short_docs(docs: list[str]) -> list[str]:
    notes = []
    for doc in docs:
        if len(doc) < 18:
            continue
        note = await ayo.llm(f"Note on: {doc}\nNote:", max_tokens=6)
        notes.append(note)
    return notes


@ayo.workflow
async def search_else(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="loop_kb")
    for attempt in range(3):
        hits = await ayo.search(f"{question} {attempt}", collection="loop_kb", top_k=1)
        if hits and "zzz" in hits[0].text:
            answer = hits[0].text
            break
    else:
        answer = await ayo.llm(f"No hit for {question}; answer from memory:", max_tokens=8)
    return answer


@ayo.workflow
async def refine_while_short(question: str) -> str:
    answer = await ayo.llm(f"Answer: {question}\n", max_tokens=4)
    rounds = 0
    while len(answer) < 40 and rounds < 4:
        answer += await ayo.llm(f"Continue: {answer}", max_tokens=4)
        rounds += 1
    return f"{rounds}:{answer}"


@ayo.workflow
async def ingest_then_search_loop(question: str, batches: list[list[str]]) -> list[int]:
    counts = []
    for batch in batches:
        await ayo.ingest(batch, collection="growing")
        hits = await ayo.search(question, collection="growing", top_k=10)
        counts.append(len(hits))
        if len(hits) >= 3:
            break
    return counts


@ayo.workflow
async def nested_loops_break(topics: list[str], docs: list[str]) -> list[str]:
    picked = []
    for topic in topics:
        for doc in docs:
            verdict = await ayo.llm(f"Does '{doc}' cover {topic}?", max_tokens=2)
            if "a" in verdict:
                picked.append(f"{topic}:{doc}")
                break
        else:
            picked.append(f"{topic}:-")
    return picked


@ayo.workflow
async def running_summary(docs: list[str]) -> str:
    summary = ""
    for doc in docs:
        summary = await ayo.llm(f"Update the summary '{summary.strip()}' with: {doc}\nSummary:", max_tokens=6)
    return summary


@ayo.workflow
async def numbered_answers(questions: list[str]) -> list[str]:
    return [await ayo.llm(f"Q{i}: {q}\nA:", max_tokens=4) for i, q in enumerate(questions, start=1)]


@ayo.workflow
async def search_rounds(questions: list[str], docs: list[str]) -> tuple[list[int], list[str]]:
    await ayo.ingest(docs, collection="rounds_kb")
    counts = []
    for q in questions:
        hits = await ayo.search(q, collection="rounds_kb", top_k=2)
        if not hits:
            break
        counts.append(len(hits))
    texts = []
    for q in questions:
        hits = await ayo.search(q, collection="rounds_kb", top_k=1)
        texts.append(q.upper())
    for q in questions:
        hits = await ayo.search(q + "?", collection="rounds_kb", top_k=3)
        if hits:
            counts.append(len(hits))
            break
    return counts, texts


@ayo.workflow
async def reviewed_draft(question: str) -> str:
    draft = await ayo.llm(f"Draft: {question}\n", max_tokens=6)
    draft = draft + "\n(reviewed)"
    final = await ayo.llm(f"Polish: {draft}\n", max_tokens=6)
    return draft + final


@ayo.workflow
async def await_in_while_condition(question: str) -> int:
    rounds = 0
    while "stop" not in await ayo.llm(f"{question} {rounds}", max_tokens=4) and rounds < 3:
        rounds += 1
    return rounds
