import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    try:
        for item in enumerate(map(str.upper, [q, 5])):
            out.append(await ayo.llm(str(item), max_tokens=3))
    except TypeError:
        out.append("bad type")
    return out
