import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    try:
        for w in q.split():
            out.append(await ayo.llm(w, max_tokens=3))
        # after the loop
        total = sum(len(x) for x in out)
        out.append(total // (len(out) - 2))
    except ayo.EngineError:
        out.append("engine")
    return out
