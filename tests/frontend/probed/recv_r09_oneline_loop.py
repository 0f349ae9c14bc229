import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    d = {}
    for w in q.split():
        d.setdefault(len(w), []).append(await ayo.llm(w, max_tokens=3))
    return d
