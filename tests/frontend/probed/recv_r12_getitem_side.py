import ayo_trace as ayo

LOG = []


class Buckets(dict):
    def __missing__(self, k):
        LOG.append(("miss", k))
        self[k] = []
        return self[k]


B = Buckets()


@ayo.workflow
async def wf(q, docs):
    try:
        B[q[:4]].append(await ayo.llm(q, max_tokens=3))
    except ayo.EngineError:
        LOG.append("err")
    return list(LOG), dict(B)
