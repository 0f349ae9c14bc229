import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    words = q.split()
    try:
        for a, b in zip(words, words[1:], strict=True):
            out.append(await ayo.llm(a + b, max_tokens=3))
    except ValueError:
        out.append("uneven")
    return out
