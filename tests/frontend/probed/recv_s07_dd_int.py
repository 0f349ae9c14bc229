from collections import defaultdict

import ayo_trace as ayo

TOT = defaultdict(int)


@ayo.workflow
async def wf(q, docs):
    try:
        for w in q.split():
            TOT[w[0]] += len(await ayo.llm(w, max_tokens=3))
    except ayo.EngineError:
        pass
    return dict(TOT)
