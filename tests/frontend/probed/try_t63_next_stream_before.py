import ayo_trace as ayo


def stream(q):
    if "heap" in q:
        raise ayo.Overloaded("stream busy")
    yield from q.split()


@ayo.workflow
async def wf(q, docs):
    out = []
    s = stream(q)
    try:
        first = next(s)
        for w in ["x", "y"]:
            out.append(await ayo.llm(first + w, max_tokens=3))
    except ayo.EngineError as e:
        out.append(f"no stream: {e}")
    return out
