import ayo_trace as ayo

LOG = []


@ayo.workflow
async def wf(q, docs):
    groups = {}

    def slot(k):
        LOG.append(k)
        return groups.setdefault(k, [])

    async def add(w):
        slot(len(w)).append(await ayo.llm(w, max_tokens=3))

    for w in q.split():
        try:
            await add(w)
        except ayo.EngineError:
            LOG.append("err")
    return list(LOG), groups
