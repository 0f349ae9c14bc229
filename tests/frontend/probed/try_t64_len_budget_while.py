import ayo_trace as ayo


class Budget:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        if self.n <= 0:
            raise ayo.Overloaded("out of budget")
        return self.n


@ayo.workflow
async def wf(q, docs):
    budget = Budget(2)
    out = []
    try:
        while len(budget) > 0:
            out.append(await ayo.llm(f"{q} {budget.n}", max_tokens=3))
            budget.n -= 1
    except ayo.EngineError as e:
        out.append(str(e))
    return out
