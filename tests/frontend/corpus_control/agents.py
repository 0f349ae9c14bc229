"""Agent loops: an LLM decides, a tool runs (a primitive or plain Python), repeat until done or a
step budget is hit."""

from __future__ import annotations

import json

import ayo_trace as ayo

TOOLS = "Tools: search(query), calc(expression), done(answer)."


def calculator(expression: str) -> str:
    digits = [int(c) for c in expression if c.isdigit()]
    return str(sum(digits))


def parse_action(text: str) -> tuple[str, str]:
    words = text.split()
    if not words:
        return "done", ""
    verb = {"a": "search", "b": "calc", "c": "done"}.get(words[0][0], "search") if words[0] else "done"
    return verb, " ".join(words[1:3])


@ayo.workflow
async def react_agent(question: str, max_steps: int = 4) -> str:
    scratchpad = f"{TOOLS}\nQuestion: {question}\n"
    answer = ""
    for step in range(max_steps):
        thought = await ayo.llm(scratchpad + f"Step {step}:", max_tokens=8)
        action, arg = parse_action(thought)
        if action == "done":
            answer = arg
            break
        if action == "search":
            hits = await ayo.search(arg, collection="agent_kb", top_k=1)
            observation = hits[0].text if hits else "nothing"
        else:
            observation = calculator(arg)
        scratchpad += f"{thought.strip()}\nObservation: {observation}\n"
    else:
        answer = await ayo.llm(scratchpad + "Final answer:", max_tokens=8)
    return answer


@ayo.workflow
async def while_agent(question: str, docs: list[str]) -> dict[str, object]:
    await ayo.ingest(docs, collection="agent_docs")
    history: list[str] = []
    done = False
    steps = 0
    while not done and steps < 5:
        decision = await ayo.llm(f"Q: {question}\nSo far: {history}\nNext query or DONE:", max_tokens=6)
        steps += 1
        if decision.strip().startswith(("a", "b", "c")):
            done = True
            continue
        hits = await ayo.search(decision, collection="agent_docs", top_k=1)
        history.append(hits[0].text if hits else decision)
    return {"steps": steps, "done": done, "history": history}


@ayo.workflow
async def tool_dispatch_agent(task: str) -> list[str]:
    log = []
    while True:
        reply = await ayo.llm(f"Task: {task}\nLog: {log}\nReply with a JSON list [tool, arg]:", max_tokens=8)
        try:
            tool, arg = json.loads(reply)
        except ValueError:
            tool, arg = {"a": "stop", "b": "calc"}.get(reply.strip()[:1], "lookup"), reply.strip()[:4]
        match tool:
            case "stop":
                log.append(f"stop {arg}")
                break
            case "calc":
                log.append(calculator(arg))
            case _:
                note = await ayo.llm(f"Look up {arg}:", max_tokens=4)
                log.append(note)
        if len(log) >= 3:
            break
    return log
