import ayo_trace as ayo

LOG = []


class Audit(dict):
    def __getitem__(self, k):
        LOG.append(("get", k))
        return super().__getitem__(k)


A = Audit(what=[], explain=[], sort=[])


@ayo.workflow
async def wf(q, docs):
    try:
        A[q.split()[0]].append(await ayo.llm(q, max_tokens=3))
    except ayo.EngineError:
        LOG.append("err")
    return list(LOG)
