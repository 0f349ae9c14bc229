import ayo_trace as ayo


def gen(q):
    yield q
    raise ValueError("bad item")


@ayo.workflow
async def wf(q, docs):
    items = [q]

    async def summarize(items):
        out = []
        try:
            for x in items:
                out.append(await ayo.llm(x, max_tokens=3))
        except Exception as e:
            out.append(type(e).__name__)
        return out

    return await summarize(gen(q)), items
