import ayo_trace as ayo


@ayo.workflow
async def wf(q, docs):
    attempts = 0
    answer = None
    try:
        while attempts < 3:
            attempts += 1
            answer = await ayo.llm(f"try {attempts}: {q}", max_tokens=3)
            if answer:
                break
    except ayo.EngineError as e:
        answer = f"gave up after {attempts}: {e}"
    return answer, attempts
