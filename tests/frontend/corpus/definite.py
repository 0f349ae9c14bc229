"""Point 2: Python's definite-assignment rules. A branch that returns or raises does not fall
through; local defs, classes and imports bind names; only a read Python could fail is refused."""

from __future__ import annotations

import ayo_trace as ayo

from . import case

DOCS = [
    "Generators yield values lazily.",
    "Lists hold values in order.",
    "Coroutines await other coroutines.",
]


@ayo.workflow
async def guard_clause(question: str, docs: list[str]) -> str:
    if not docs:
        return "no documents"
    await ayo.ingest(docs, collection="guard")
    hits = await ayo.search(question, collection="guard", top_k=2)
    return await ayo.llm(f"{hits[0].text}\nQ: {question}\nA:", max_tokens=5)


@ayo.workflow
async def early_return_then_more_code(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="early")
    label = await ayo.llm(f"Is this a lookup? {question}\n", max_tokens=2)
    if "yields" in label:
        hits = await ayo.search(question, collection="early", top_k=1)
        return hits[0].text
    hits = await ayo.search(question, collection="early", top_k=3)
    context = " / ".join(h.text for h in hits)
    answer = await ayo.llm(f"{context}\nQ: {question}\nA:", max_tokens=5)
    return answer.strip()


@ayo.workflow
async def elif_chain_of_returns(question: str) -> str:
    kind = await ayo.llm(f"Kind of question: {question}\n", max_tokens=1)
    if kind.startswith(" a"):
        return await ayo.llm(f"Explain: {question}", max_tokens=3)
    elif kind.startswith(" b"):
        return await ayo.llm(f"List: {question}", max_tokens=3)
    elif len(kind) > 40:
        return "too long"
    summary = await ayo.llm(f"Summarize: {question}", max_tokens=4)
    return summary


@ayo.workflow
async def return_in_both_branches(question: str, strict: str) -> str:
    draft = await ayo.llm(f"Draft: {question}", max_tokens=4)
    if strict == "yes":
        checked = await ayo.llm(f"Check: {draft}", max_tokens=4)
        return checked
    else:
        return draft + "?"


@ayo.workflow
async def raise_in_one_branch(question: str, docs: list[str]) -> str:
    if docs:
        first = await ayo.llm(f"Title for: {docs[0]}", max_tokens=3)
    else:
        raise ValueError("need at least one document")
    return first + " / " + question


@ayo.workflow
async def countdown(question: str, depth: int = 2) -> str:
    if depth == 0:
        return question
    sharper = await ayo.llm(f"Sharpen: {question}", max_tokens=3)
    return await countdown(question + sharper, depth - 1)


@ayo.workflow
async def return_inside_a_loop(question: str, docs: list[str]) -> str:
    for d in docs:
        verdict = await ayo.llm(f"Does this answer {question}? {d}\n", max_tokens=1)
        if "a" in verdict:
            return d
    return "none"


@ayo.workflow
async def local_def(question: str, docs: list[str]) -> list[str]:
    def bullet(text: str) -> str:
        return f"* {text.strip('.')}"

    return [await ayo.llm(f"{bullet(d)}\nAbout {question}:", max_tokens=2) for d in docs]


@ayo.workflow
async def local_class_and_import(question: str, docs: list[str]) -> str:
    import json

    class Note:
        def __init__(self, text: str) -> None:
            self.text = text

    notes = [Note(await ayo.llm(f"Note on {d}", max_tokens=2)) for d in docs]
    return json.dumps({"question": question, "notes": [n.text for n in notes]})


@ayo.workflow
async def assigned_before_the_branch(question: str) -> str:
    answer = "unknown"
    label = await ayo.llm(f"Label: {question}", max_tokens=1)
    if label.strip():
        answer = await ayo.llm(f"Answer: {question}", max_tokens=3)
    return answer


@ayo.workflow
async def with_block_binds(question: str) -> str:
    import contextlib

    with contextlib.nullcontext(question.title()) as title:
        shout = title.upper()
    return await ayo.llm(f"{title} / {shout}", max_tokens=3)


@ayo.workflow
async def agent_loop(task: str) -> str:
    steps = []
    while True:
        action = await ayo.llm(f"Task: {task}\nDone so far: {len(steps)}\nNext action:", max_tokens=2)
        steps.append(action.strip())
        if len(steps) >= 3 or "a" in action:
            break
    return f"{action.strip()} after {len(steps)} steps"


@ayo.workflow
async def agent_loop_with_two_exits(task: str) -> str:
    steps = 0
    while True:
        action = await ayo.llm(f"Task: {task}\nStep {steps}\nNext action:", max_tokens=2)
        steps += 1
        if steps >= 3:
            verdict = "gave up"
            break
        if "a" in action:
            verdict = "done"
            break
    return f"{verdict} at {action.strip()!r} after {steps} steps"


CASES = [
    case(guard_clause, "how do generators work", DOCS),
    case(guard_clause, "anything", [], label="guard_clause_empty"),
    case(early_return_then_more_code, "how do generators work", DOCS),
    case(elif_chain_of_returns, "what is a list"),
    case(return_in_both_branches, "what is a list", "yes"),
    case(return_in_both_branches, "what is a list", "no", label="return_in_both_branches_no"),
    case(raise_in_one_branch, "what is a list", DOCS),
    case(countdown, "generators"),
    case(return_inside_a_loop, "what yields", DOCS),
    case(local_def, "python", DOCS),
    case(local_class_and_import, "python", DOCS),
    case(assigned_before_the_branch, "what is a list"),
    case(with_block_binds, "python lists"),
    case(agent_loop, "sort a list"),
    case(agent_loop_with_two_exits, "sort a list"),
    case(agent_loop_with_two_exits, "book a flight", label="agent_loop_with_two_exits_done"),
]


@ayo.workflow
async def loop_over_a_constant_range_binds(question: str) -> str:
    for attempt in range(3):
        last = await ayo.llm(f"{question} (attempt {attempt})", max_tokens=2)
    return f"{attempt}: {last}"


@ayo.workflow
async def loop_over_constant_tones_binds(question: str) -> str:
    for tone in ["dry", "warm"]:
        styled = await ayo.llm(f"[{tone}] {question}", max_tokens=2)
    return tone + styled


@ayo.workflow
async def match_with_jumps_over_a_range(question: str) -> str:
    for i in range(4):
        answer = await ayo.llm(f"{question} {i}", max_tokens=2)
        match len(answer) % 3:
            case 0:
                continue
            case 1:
                break
    return answer


CASES += [
    case(loop_over_a_constant_range_binds, "what yields"),
    case(loop_over_constant_tones_binds, "what holds"),
    case(match_with_jumps_over_a_range, "how do generators work"),
]
