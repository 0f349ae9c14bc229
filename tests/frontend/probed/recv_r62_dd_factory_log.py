from collections import defaultdict

import ayo_trace as ayo

LOG = []


def make():
    LOG.append("make")
    return []


D = defaultdict(make)


@ayo.workflow
async def wf(q, docs):
    try:
        D[q[:4]].append(await ayo.llm(q, max_tokens=3))
    except ayo.EngineError:
        LOG.append("err")
    return list(LOG), sorted(D)
