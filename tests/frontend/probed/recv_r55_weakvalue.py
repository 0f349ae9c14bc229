import weakref

import ayo_trace as ayo


class Sess:
    def __init__(self):
        self.msgs = []

    def add(self, m):
        self.msgs.append(m)
        return self


LIVE = weakref.WeakValueDictionary()


def session(k):
    s = Sess()
    LIVE[k] = s
    return s


@ayo.workflow
async def wf(q, docs):
    session(q[:3]).add(await ayo.llm(q.replace("FAIL", ""), max_tokens=3))
    return sorted(LIVE.keys())
