import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    try:
        for n in (int(w) for w in ["3", q]):
            out.append(await ayo.llm(f"num {n}", max_tokens=3))
    except Exception as e:
        out.append(type(e).__name__)
    return out
