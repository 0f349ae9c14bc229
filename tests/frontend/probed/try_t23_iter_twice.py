import ayo_trace as ayo

LOG = []


class Batch:
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        LOG.append("iter")
        return iter(self.items)


@ayo.workflow
async def wf(q, docs):
    out = []
    batch = Batch(q.split())
    try:
        for w in batch:
            out.append(await ayo.llm(w, max_tokens=3))
    except Exception:
        out.append("failed")
    return out, list(LOG)
