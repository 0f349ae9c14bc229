import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    try:
        seen = {[]: 0}
        for i in range(2):
            out.append(await ayo.llm(f"{i} {q}", max_tokens=3))
    except Exception as e:
        out.append(type(e).__name__)
    return out
