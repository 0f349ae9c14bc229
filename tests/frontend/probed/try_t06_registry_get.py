import ayo_trace as ayo


class ToolError(ayo.EngineError):
    pass


class Registry:
    def __init__(self):
        self.tools = {"search": "S"}

    def get(self, name):
        if name not in self.tools:
            raise ToolError(f"unknown tool {name}")
        return self.tools[name]


REG = Registry()


@ayo.workflow
async def wf(q, docs):
    log = []
    try:
        tool = REG.get("browse")
        for step in q.split():
            log.append(await ayo.llm(f"{tool} {step}", max_tokens=3))
    except ToolError as e:
        log.append(str(e))
    return log
