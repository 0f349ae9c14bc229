import ayo_trace as ayo

LOG = []


class Bag(list):
    def __del__(self):
        LOG.append("del")


def bag():
    return Bag()


@ayo.workflow
async def wf(q, docs):
    try:
        bag().append(await ayo.llm(q, max_tokens=3))
    except ayo.EngineError:
        pass
    LOG.append("mid")
    return list(LOG)
