import ayo_trace as ayo


def gen(q):
    yield q
    yield "ok"
    raise ValueError("gen broke")


@ayo.workflow
async def wf(q, docs):
    out = []
    it = gen(q)
    try:
        for x in it:
            out.append(await ayo.llm(x + "?", max_tokens=3))
    except ValueError as e:
        out.append(f"handled {e}")
    return out
