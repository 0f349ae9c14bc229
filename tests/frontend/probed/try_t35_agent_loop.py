import ayo_trace as ayo

TOOLS = {"search": lambda a: f"results for {a}", "calc": lambda a: str(len(a))}


@ayo.workflow
async def wf(q, docs):
    history = [f"Q: {q}"]
    answer = None
    try:
        for step in range(4):
            thought = await ayo.llm("\n".join(history) + "\nThought:", max_tokens=4)
            tool = "search" if step % 2 == 0 else "calc"
            obs = TOOLS[tool](thought)
            history.append(f"{tool} -> {obs}")
            if step == 2:
                answer = thought.strip()
                break
    except ayo.EngineError as e:
        history.append(f"error: {e}")
        answer = "unknown"
    return answer, len(history), step
