import ayo_trace as ayo

D = {"what": []}


@ayo.workflow
async def wf(q, docs):
    D[q.split()[0]].append(await ayo.llm(q, max_tokens=3))
    return dict(D)
