import ayo_trace as ayo


class ToolError(ayo.EngineError):
    pass


class Registry:
    def __init__(self):
        self.tools = {"search": ["s1", "s2"]}

    def get(self, name):
        if name not in self.tools:
            raise ToolError(f"unknown tool {name}")
        return self.tools[name]


REG = Registry()


@ayo.workflow
async def wf(q, docs):
    log = []
    try:
        for step in REG.get("browse" if "heap" in q else "search"):
            log.append(await ayo.llm(f"{step} {q}", max_tokens=3))
    except ToolError as e:
        log.append(str(e))
    return log
