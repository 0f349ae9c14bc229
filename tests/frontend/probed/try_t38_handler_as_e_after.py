import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    e = "unset"
    out = []
    try:
        for w in q.split():
            out.append(await ayo.llm(w, max_tokens=3))
    except ayo.EngineError:
        out.append("x")
    try:
        return out, e
    except NameError:
        return out, "deleted"
