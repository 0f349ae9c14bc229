import ayo_trace as ayo


class Invalid(Exception):
    pass


def validate(x):
    if "scripted" in x and len(x) % 2:
        raise Invalid(x.strip())
    return x


@ayo.workflow
async def wf(q, docs):
    good = []
    try:
        n = 0
        for w in ["one", "two", "three", "four"]:
            good.append(validate(await ayo.llm(w + q, max_tokens=3)))
            n += 1
    except (Invalid, ayo.EngineError) as e:
        good.append(f"stop after {n}: {type(e).__name__}")
    return good
