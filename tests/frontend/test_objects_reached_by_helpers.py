"""A module-level object the workflow changes (``CFG.style = q[:2]``, ``CFG.notes.append(q)``,
``setattr``, a helper of the module setting it) and a helper reads, reaching it through a name of
its own: a factory's closure (``make_writer(CFG)``), a ``functools.partial``'s argument, a
parameter's default (``cfg=CFG``), an argument, the module's name. The helper inlined into the
graph reads the field when the graph runs (``folding._changed_here``); through a closure, a
partial or a default it was folded as it was at the trace, a wrong answer from the first query
on. Generated over every pair of choices; eager ≡ traced ≡ optimized on fresh module copies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

HEAD = """import functools

import ayo_trace as ayo


class Cfg:
    def __init__(self):
        self.style = "s"
        self.notes = []


CFG = Cfg()


def retune(s):
    CFG.style = s


async def write_with(cfg, q):
    return await ayo.llm(f"{cfg.style} {len(cfg.notes)}: {q}", max_tokens=4)


def make_writer(cfg):
    async def write(q):
        return await ayo.llm(f"{cfg.style} {len(cfg.notes)}: {q}", max_tokens=4)

    return write


async def write_default(q, cfg=CFG):
    return await ayo.llm(f"{cfg.style} {len(cfg.notes)}: {q}", max_tokens=4)


async def write_global(q):
    return await ayo.llm(f"{CFG.style} {len(CFG.notes)}: {q}", max_tokens=4)


WRITE = make_writer(CFG)
PWRITE = functools.partial(write_with, CFG)


@ayo.workflow
async def wf(q, docs):
"""
CHANGES = {
    "attribute": "    CFG.style = q[:2]\n",
    "list": "    CFG.notes.append(q)\n",
    "setattr": '    setattr(CFG, "style", q[:2])\n',
    "helper": "    retune(q[:2])\n",
}
READS = {
    "closure": "    out = await WRITE(q)\n",
    "partial": "    out = await PWRITE(q)\n",
    "default": "    out = await write_default(q)\n",
    "argument": "    out = await write_with(CFG, q)\n",
    "global": "    out = await write_global(q)\n",
}
ORDERS = ["change_then_read", "read_then_change"]
CASES = every_pair(CHANGES, READS, ORDERS)


def source(change: str, read: str, order: str) -> str:
    body = CHANGES[change] + READS[read] if order == "change_then_read" else READS[read] + CHANGES[change]
    return HEAD + body + "    return out, CFG.style, len(CFG.notes)\n"


@pytest.mark.parametrize(("change", "read", "order"), CASES, ids=["-".join(c) for c in CASES])
def test_a_helper_reads_the_object_the_workflow_changed_when_the_graph_runs(
    change: str, read: str, order: str, tmp_path: Any
) -> None:
    fresh_copies_agree(source(change, read, order), tmp_path, ["one", "two", "FAIL three", "four"])
