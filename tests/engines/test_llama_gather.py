"""The llama.cpp engine's gathering of decoding sessions onto consecutive sequence ids.

llama.cpp runs a decode step's sequences whose ids are not consecutive as separate weight passes,
so before a decode round the engine moves its sessions into one window of ids, moving idle sessions
and kept prefixes out of the way when no window is free of them. These tests drive ``_gather`` over
a model of llama.cpp's KV streams (no model loaded): ``seq_cp`` queues a copy of a stream's bytes,
applied in order before the next decode, and ``seq_rm`` clears the stream's cells at once. Every
placement of decoding sessions, idle sessions, kept prefixes and free ids is checked: afterwards the
decoding sessions are consecutive whenever an id is free or held by a prefix, and every session and
prefix still finds its own KV bytes under its (possibly new) id.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ayo_trace.backend.engines._prefix_cache import PrefixEntry
from ayo_trace.backend.engines.llama_cpp import LlamaCppEngine, _Session


class KVStreams:
    """llama.cpp's non-unified KV cache as far as ``_gather`` sees it: one stream per sequence id."""

    def __init__(self, n: int) -> None:
        self.data: list[str | None] = [None] * n  # the bytes of each stream (named by their owner)
        self.queued: list[tuple[int, int]] = []

    def llama_memory_seq_cp(self, mem: object, src: int, dst: int, p0: int, p1: int) -> None:
        self.queued.append((src, dst))  # the buffer copy happens at the next update, in order

    def llama_memory_seq_rm(self, mem: object, seq: int, p0: int, p1: int) -> None:
        pass  # clears the cells' metadata; the bytes stay until a copy overwrites them

    def update(self) -> None:
        for src, dst in self.queued:
            self.data[dst] = self.data[src]
        self.queued.clear()


def engine_with(layout: list[str], n_decoding: int) -> tuple[LlamaCppEngine, KVStreams, list[_Session]]:
    """An engine (no model) whose ids hold ``layout``: "d" a decoding session, "i" an idle session,
    "p" a kept prefix, "." free; the first ``n_decoding`` "d"s decode."""
    eng = LlamaCppEngine(n_ctx=64, n_seq_max=len(layout))
    kv = KVStreams(len(layout))
    eng._llama = kv
    decoding = []
    for seq, kind in enumerate(layout):
        if kind == ".":
            eng._free.append(seq)
            continue
        kv.data[seq] = f"{kind}{seq}"
        if kind == "p":
            eng.prefixes.put(PrefixEntry((seq,), f"p{seq}", np.zeros(1), seq))
        else:
            s = eng._sessions[f"{kind}{seq}"] = _Session(f"{kind}{seq}", seq=seq)
            if kind == "d":
                decoding.append(s)
    return eng, kv, decoding


def owners(eng: LlamaCppEngine) -> dict[str, int]:
    held = {name: s.seq for name, s in eng._sessions.items()}
    held.update({e.text: e.state for e in eng.prefixes.entries()})
    return held


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from("dip."), min_size=2, max_size=16))
def test_gather_keeps_every_kv_state_and_makes_decoding_ids_consecutive(layout: list[str]) -> None:
    eng, kv, decoding = engine_with(layout, layout.count("d"))
    before = owners(eng)
    eng._gather(decoding)
    kv.update()
    after = owners(eng)
    gone = before.keys() - after.keys()  # a kept prefix yields its id when none is free
    assert after.keys() <= before.keys()
    assert not gone or ("." not in layout and len(gone) == 1 and next(iter(gone)).startswith("p"))
    for name, seq in after.items():  # each session and prefix reads its own bytes
        assert kv.data[seq] == f"{name[0]}{before[name]}"
    assert sorted(eng._free) == sorted(set(range(len(layout))) - set(after.values()))
    assert eng._free == sorted(eng._free)
    assert len(set(after.values())) == len(after)
    ids = sorted(s.seq for s in decoding)
    if len(ids) > 1 and ("." in layout or "p" in layout):
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    moved = sum(after[n] != before[n] for n in after)
    assert eng.stats()["sessions_moved"] >= moved


def test_gather_moves_idle_sessions_out_of_the_way_when_no_window_is_free() -> None:
    """Decoding sessions 0, 2, 4, 6 between idle ones 1, 3, 5 and one free id, 7: the old rule (a window
    of free and decoding ids only) found none and decoded in four micro-batches."""
    eng, kv, decoding = engine_with(list("dididid."), 4)
    eng._gather(decoding)
    kv.update()
    ids = sorted(s.seq for s in decoding)
    assert ids == list(range(ids[0], ids[0] + 4))
    assert {n: kv.data[s] for n, s in owners(eng).items()} == {n: n for n in owners(eng)}


def test_gather_leaves_consecutive_sessions_alone() -> None:
    eng, kv, decoding = engine_with(list("iddd.p"), 3)
    eng._gather(decoding)
    assert kv.queued == [] and eng.stats()["sessions_moved"] == 0


def test_gather_evicts_a_kept_prefix_when_every_id_is_held() -> None:
    """Sessions fill every id but one, which a kept prefix holds (the runtime's pool admits
    ``n_seq_max - 1`` sessions): the prefix yields its id so the decoding sessions can move."""
    eng, kv, decoding = engine_with(list("didididp"), 4)
    eng._gather(decoding)
    kv.update()
    ids = sorted(s.seq for s in decoding)
    assert ids == list(range(ids[0], ids[0] + 4))
    assert len(eng.prefixes) == 0
    assert {n: kv.data[s] for n, s in owners(eng).items()} == {n: n for n in owners(eng)}
