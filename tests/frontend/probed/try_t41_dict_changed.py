import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    cache = {"seed": q}
    try:
        for key in cache:
            ans = await ayo.llm(f"expand {cache[key]}", max_tokens=3)
            cache[ans.strip()] = ans
    except Exception as e:
        cache["error"] = type(e).__name__
    return sorted(cache)
