"""Source text of a service class the generated modules of the object-tracing tests share
(``test_handed_objects``, ``test_factories``, ``test_held_objects``): an object that changes
at each call, so state kept from query to query shows in the runs' outcomes."""

COUNTING = """
class Counting:
    def __init__(self, prefix="C: ", budget=3):
        self.prefix = prefix
        self.budget = budget
        self.calls = 0

    async def generate(self, q):
        self.calls += 1
        LOG.append(self.calls)
        return await ayo.llm(f"{self.prefix}{self.calls} {q}", max_tokens=self.budget)

    def tag(self):
        return f"{self.prefix.strip()}{self.calls}"
"""
