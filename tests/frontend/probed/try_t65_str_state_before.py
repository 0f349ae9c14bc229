import ayo_trace as ayo


class State:
    def __init__(self, q):
        self.q = q

    def __str__(self):
        if "sort" in self.q:
            raise ayo.EngineError("cannot render state")
        return f"State({self.q})"


@ayo.workflow
async def wf(q, docs):
    state = State(q)
    log = []
    try:
        log.append(str(state))
        for w in q.split()[:2]:
            log.append(await ayo.llm(w, max_tokens=3))
    except ayo.EngineError as e:
        log.append("handled " + str(e)[:20])
    return log
