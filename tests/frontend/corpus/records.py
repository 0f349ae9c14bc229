"""A loop body that changes its item in place (``for row in rows: row["summary"] = await ...``)
changes the list it iterates: the list read after the loop holds the changed items. Workflows that
build records this way, in the styles users write them."""

from __future__ import annotations

from dataclasses import dataclass, field

import ayo_trace as ayo

from . import case

DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]


@ayo.workflow
async def rows_appended_in_place(docs: list[str]) -> list[list[str]]:
    rows = [[d] for d in docs]
    for row in rows:
        row.append(await ayo.llm(row[0], max_tokens=2))
    return rows


@ayo.workflow
async def records_get_a_summary(docs: list[str]) -> list[dict[str, str]]:
    records = [{"text": d, "id": str(i)} for i, d in enumerate(docs)]
    for record in records:
        record["summary"] = (await ayo.llm(f"Summarize: {record['text']}\n", max_tokens=3)).strip()
    return records


@dataclass
class Note:
    text: str
    tags: list[str] = field(default_factory=list)
    score: int = 0


@ayo.workflow
async def notes_tagged_through_attributes(docs: list[str]) -> list[tuple[str, list[str], int]]:
    notes = [Note(d) for d in docs]
    for note in notes:
        tag = await ayo.llm(f"One tag for: {note.text}\n", max_tokens=1)
        note.tags.append(tag.strip())
        note.score = len(tag)
    return [(n.text, n.tags, n.score) for n in notes]


@ayo.workflow
async def sections_by_key(given: dict[str, list[str]]) -> dict[str, list[str]]:
    sections = {title: list(lines) for title, lines in given.items()}
    for title, lines in sections.items():
        lines.append(await ayo.llm(f"## {title}\nOne more line:", max_tokens=2))
    return sections


@ayo.workflow
async def enumerated_records_then_read_one(docs: list[str]) -> str:
    records = [{"text": d} for d in docs]
    for i, r in enumerate(records):
        r["answer"] = await ayo.llm(f"{i}: {r['text']}", max_tokens=2)
    best = records[-1]
    return f"{best['text']} -> {best['answer']}"


CASES = [
    case(rows_appended_in_place, DOCS),
    case(records_get_a_summary, DOCS),
    case(notes_tagged_through_attributes, DOCS),
    case(sections_by_key, {"intro": ["a"], "usage": ["b", "c"]}),
    case(enumerated_records_then_read_one, DOCS),
]
