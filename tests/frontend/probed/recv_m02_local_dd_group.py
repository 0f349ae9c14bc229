from collections import defaultdict

import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    groups = defaultdict(list)
    for w in q.split():
        try:
            groups[w[0]].append(await ayo.llm(w, max_tokens=3))
        except ayo.EngineError:
            pass
    return sorted(groups)
