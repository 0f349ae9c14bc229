import ayo_trace as ayo


def my_zip(*a):
    yield ("x", "y")
    raise KeyError("zipped")


@ayo.workflow
async def wf(q, docs):
    zip = my_zip
    out = []
    try:
        for a, b in zip([1], [2]):
            out.append(await ayo.llm(f"{a}{b}{q}", max_tokens=3))
    except Exception as e:
        out.append(repr(e))
    return out
