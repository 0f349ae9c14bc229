import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    out = []
    words = q.split()
    try:
        for pair in zip(words, ["x", "y", "z"], strict=True):
            out.append(await ayo.llm(" ".join(pair), max_tokens=3))
    except ValueError:
        out.append(f"mismatch after {len(out)}")
    return out
