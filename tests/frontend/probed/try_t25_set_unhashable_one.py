import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    try:
        for y in {"a", []}:
            out.append(await ayo.llm(q + str(y), max_tokens=3))
    except TypeError:
        out.append("type error")
    return out
