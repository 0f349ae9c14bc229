from collections import defaultdict

import ayo_trace as ayo

SEEN = defaultdict(set)


@ayo.workflow
async def wf(q, docs):
    for w in q.split():
        try:
            SEEN[w].add(await ayo.llm(w, max_tokens=3))
        except ayo.EngineError:
            break
    return {k: len(v) for k, v in SEEN.items()}
