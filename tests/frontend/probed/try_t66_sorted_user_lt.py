import ayo_trace as ayo


class Doc:
    def __init__(self, t):
        self.t = t

    def __lt__(self, other):
        raise ayo.EngineError("rank model down")


@ayo.workflow
async def wf(q, docs):
    ranked = []
    items = [Doc(w) for w in q.split()]
    try:
        for d in sorted(items):
            ranked.append(await ayo.llm(d.t, max_tokens=3))
    except ayo.EngineError:
        ranked.append("unranked")
    return ranked
