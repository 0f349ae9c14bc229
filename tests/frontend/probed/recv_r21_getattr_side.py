import ayo_trace as ayo

LOG = []


class Proxy:
    def __init__(self):
        self.data = []

    def __getattr__(self, name):
        LOG.append(("get", name))
        return getattr(self.data, name)


def proxy():
    LOG.append("mk")
    return P


P = Proxy()


@ayo.workflow
async def wf(q, docs):
    try:
        proxy().append(await ayo.llm(q, max_tokens=3))
    except ayo.EngineError:
        LOG.append("err")
    return list(LOG), list(P.data)
