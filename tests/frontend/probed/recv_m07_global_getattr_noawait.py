import ayo_trace as ayo

LOG = []


class Proxy:
    def __getattr__(self, name):
        LOG.append(name)
        return 1


P = Proxy()


@ayo.workflow
async def wf(q, docs):
    a = await ayo.llm(q.replace("FAIL", ""), max_tokens=3)
    return a, P.x, list(LOG)
