import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    d, ws = {}, q.split()
    while ws:
        d.setdefault(ws.pop(), []).append(await ayo.llm(q, max_tokens=3))
    return d
