import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    words = ["1", "2", q]
    try:
        for n in map(int, words):
            out.append(await ayo.llm(f"num {n}", max_tokens=3))
    except ValueError:
        out.append("bad number")
    return out
