"""Calls run at once (``asyncio.gather``, a ``TaskGroup``) that may each raise, after different
numbers of waits: Python raises the error that comes first in time (the group fails with it and
cancels the rest), the graph would raise the earlier call's. Such a gather runs as written
(``interleaving``: a ``raise`` no ``try`` of its helper catches touches the gather's outcome);
calls raising after the same waits, or catching their own errors, still trace. Generated over the
construct, the helpers' waits and where they raise; eager ≡ traced ≡ optimized."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

HELPERS = """
async def two_steps(q, tag):
    a = await ayo.llm(f"one {tag} {q}", max_tokens=3)
    b = await ayo.llm(f"two {tag} {a}", max_tokens=3)
    {raise_two}
    return b


async def one_step(q, tag):
    a = await ayo.llm(f"only {tag} {q}", max_tokens=3)
    {raise_one}
    return a
"""

RAISES = {
    "plain": "if len(q) > 3:\n        raise ValueError(tag)",
    "in_handler": "try:\n        int(q)\n    except ValueError:\n        raise KeyError(tag) from None",
    "caught": "try:\n        raise ValueError(tag)\n    except ValueError:\n        pass",
    # (a handler that does not match: the error leaves the helper)
    "missed": "try:\n        if len(q) > 3:\n            raise ValueError(tag)\n    except KeyError:\n        pass",
    # (the engine's error, for a question holding FAIL, turned into the helper's own)
    "engine": (
        "try:\n        await ayo.llm(f'check {tag} {q}', max_tokens=3)\n"
        "    except ayo.EngineError:\n        raise ValueError(tag) from None"
    ),
}

CONSTRUCTS = {
    "gather": (
        "    try:\n        out = await asyncio.gather({first}(q, 'x'), {second}(q, 'y'))\n"
        "    except Exception as e:\n        out = [type(e).__name__, str(e)]\n    return out\n"
    ),
    "task_group": (
        "    try:\n        async with asyncio.TaskGroup() as tg:\n            t1 = tg.create_task({first}(q, 'x'))\n"
        "            t2 = tg.create_task({second}(q, 'y'))\n        out = [t1.result(), t2.result()]\n"
        "    except ExceptionGroup as eg:\n        out = sorted(str(e) for e in eg.exceptions)\n    return out\n"
    ),
}

ORDERS = {"long_first": ("two_steps", "one_step"), "short_first": ("one_step", "two_steps")}


def source(construct: str, order: str, raises: str) -> str:
    first, second = ORDERS[order]
    helpers = HELPERS.replace("{raise_two}", RAISES[raises]).replace("{raise_one}", RAISES[raises])
    return (
        "import asyncio\n\nimport ayo_trace as ayo\n"
        + helpers
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + CONSTRUCTS[construct].format(first=first, second=second)
    )


CASES = every_pair(CONSTRUCTS, ORDERS, RAISES)  # (every pair of choices; the suite's time kept)
QUESTIONS = ["what is a heap", "12", "explain FAIL here", "ab"]


@pytest.mark.parametrize(("construct", "order", "raises"), CASES, ids=["-".join(c) for c in CASES])
def test_calls_raising_at_once_agree(construct: str, order: str, raises: str, tmp_path: Any) -> None:
    fresh_copies_agree(source(construct, order, raises), tmp_path, QUESTIONS)
