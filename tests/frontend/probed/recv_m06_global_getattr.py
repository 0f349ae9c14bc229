import ayo_trace as ayo

LOG = []


class Proxy:
    def __init__(self):
        self.data = []

    def __getattr__(self, name):
        LOG.append(name)
        return getattr(self.data, name)


P = Proxy()


@ayo.workflow
async def wf(q, docs):
    P.append(await ayo.llm(q.replace("FAIL", ""), max_tokens=3))
    return list(LOG)
