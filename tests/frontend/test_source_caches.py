"""The names a node reads and binds are cached by the node's ``id`` (``FunctionSource.free_names``,
``assigned_names``), only for nodes that live as long as the source: a node the compiler makes for
a moment (a folded constant, a block holding the rest of a body for a graph break) and drops may
leave its ``id`` to the next one, which must get its own names, not the dead node's. (Before, a
block holding statements could be given a dead leaf's empty names: a graph break reading nothing,
``NameError`` when it ran, depending on where the allocator put it: the likely cause of a failure
seen once in CI.)"""

from __future__ import annotations

import libcst as cst

from ayo_trace.frontend.source import FunctionSource


async def _workflow(q: str, docs: list[str]) -> tuple[str, int]:
    x = q + "?"
    y = len(docs)
    return x, y


def test_a_node_made_for_a_moment_leaves_no_names_to_the_next() -> None:
    src = FunctionSource.parse(_workflow)
    stmts = list(src.node.body.body)
    for i in range(500):
        # leaves made and dropped, each of whose names (none) would be cached by its id
        for leaf in (cst.Integer(str(i)), cst.SimpleString('"s"'), cst.TrailingWhitespace(), cst.Pass()):
            assert src.free_names(leaf) == ([], [])
            assert src.assigned_names(leaf) == []
        del leaf
        holder = cst.IndentedBlock(body=stmts[: 1 + i % 2])  # (may take a dropped leaf's id)
        assert "q" in src.free_names(holder)[0]
        assert src.free_names(holder, holder)[0][:1] == ["q"]
        assert "x" in src.assigned_names(holder)
    # the tree's own nodes are still cached (they live as long as the source)
    assert src.free_names(stmts[0]) == (["q"], [])
    assert any(k[0] == id(stmts[0]) for k in src._free_cache)
