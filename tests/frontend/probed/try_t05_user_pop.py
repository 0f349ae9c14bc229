import ayo_trace as ayo


class Tasks:
    def __init__(self, items):
        self.items = list(items)

    def pop(self):
        if not self.items:
            raise ayo.EngineError("no tasks")
        return self.items.pop()


@ayo.workflow
async def wf(q, docs):
    tasks = Tasks([])
    out = []
    try:
        first = tasks.pop()
        for w in q.split():
            out.append(await ayo.llm(first + w, max_tokens=3))
    except ayo.EngineError as e:
        out.append(f"stopped: {e}")
    return out
