import ayo_trace as ayo


def pages(q):
    for i in range(3):
        if i == 2 and "sort" in q:
            raise ayo.Overloaded("rate limited")
        yield f"page {i} of {q}"


@ayo.workflow
async def wf(q, docs):
    notes = []
    src = pages(q)
    try:
        for page in src:
            notes.append(await ayo.llm(page, max_tokens=3))
    except ayo.EngineError as e:
        notes.append(f"stopped: {e}")
    return notes
