import ayo_trace as ayo


class Agent:
    def __init__(self):
        self.steps = 0

    @property
    def running(self):
        if self.steps >= 2:
            raise ayo.Overloaded("budget spent")
        return True


@ayo.workflow
async def wf(q, docs):
    agent = Agent()
    out = []
    try:
        while agent.running:
            out.append(await ayo.llm(f"step {agent.steps} {q}", max_tokens=3))
            agent.steps += 1
    except ayo.EngineError as e:
        out.append(f"end: {e}")
    return out
