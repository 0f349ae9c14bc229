"""The pure-Python decoding pieces the LLM engines share (``engines/_decoding.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ayo_trace.backend.engines._decoding import (
    ByteDetokenizer,
    StopFilter,
    TextStream,
    WindowDetokenizer,
    log_softmax_at,
    prefill_rounds,
    reuse_length,
    sample,
)
from ayo_trace.ir.params import SamplingParams

texts = st.text(alphabet="ab\n é猫🙂", max_size=40)
stops = st.lists(st.text(alphabet="ab\n é猫🙂", min_size=1, max_size=4), max_size=3)


def split_at(seq, cuts):
    bounds = sorted({min(c, len(seq)) for c in cuts})
    return [seq[a:b] for a, b in zip([0, *bounds], [*bounds, len(seq)], strict=True)]


def expected_cut(text: str, stop_strings: list[str]) -> str:
    """The text a generator shows that stops once a stop string appears: read it one character at
    a time and cut at the start of the first stop that is complete (the longest, if several end there)."""
    for end in range(1, len(text) + 1):
        ending = [s for s in stop_strings if s and text[:end].endswith(s)]
        if ending:
            return text[: end - max(len(s) for s in ending)]
    return text


@given(texts, stops, st.lists(st.integers(0, 40), max_size=10))
def test_stop_filter_emits_the_text_cut_at_the_first_stop(text, stop_strings, cuts) -> None:
    f = StopFilter(stop_strings)
    out = "".join(f.push(piece) for piece in split_at(text, cuts)) + f.flush()
    assert out == expected_cut(text, stop_strings)


@given(texts, stops, st.lists(st.integers(0, 40), max_size=10))
def test_stop_filter_never_emits_a_stop_even_in_part(text, stop_strings, cuts) -> None:
    f = StopFilter(stop_strings)
    emitted = ""
    for piece in split_at(text, cuts):
        emitted += f.push(piece)
        assert not any(s in emitted for s in stop_strings)
        # everything emitted so far is a prefix of the final answer: no take-backs
        assert expected_cut(text, stop_strings).startswith(emitted)


def test_overlapping_stops_cut_where_the_first_one_completes() -> None:
    # found by hypothesis: "a猫a" starts first but "猫" is complete first, whatever the chunking
    for pieces in (["aa猫a"], ["aa猫", "a"], ["a", "a", "猫", "a"]):
        f = StopFilter(["猫", "a猫a"])
        assert "".join(f.push(p) for p in pieces) + f.flush() == "aa"


def test_stop_filter_holds_a_possible_stop_and_releases_it() -> None:
    f = StopFilter(["\nQuestion"])
    assert f.push("Paris\nQue") == "Paris"
    assert f.push("en") == "\nQueen"
    assert f.push("\nQuestion: more") == ""
    assert f.stopped and f.flush() == ""


@given(st.text(max_size=30), st.lists(st.integers(0, 120), max_size=12))
def test_byte_detokenizer_reassembles_characters_split_across_tokens(text, cuts) -> None:
    pieces = split_at(text.encode("utf-8"), cuts)
    d = ByteDetokenizer(lambda i: pieces[i])
    deltas = [d.push(i) for i in range(len(pieces))]
    assert "".join(deltas) + d.finish() == text
    assert all("\ufffd" not in delta for delta in deltas)


@given(st.text(alphabet="ab 猫🙂", max_size=20))
def test_window_detokenizer_streams_what_whole_decoding_gives(text) -> None:
    data = text.encode("utf-8")  # one token per byte: every multibyte character spans tokens

    def decode(tokens) -> str:
        return bytes(tokens).decode("utf-8", errors="replace")

    d = WindowDetokenizer(decode, prefix=list(b"x "))
    deltas = [d.push(b) for b in data]
    assert "".join(deltas) + d.finish() == text
    assert all("\ufffd" not in delta for delta in deltas)


def test_text_stream_finishes_on_length_with_held_text_released() -> None:
    pieces = [b"Par", b"is"]
    s = TextStream(SamplingParams(max_tokens=2, stop=("Parisian",)), ByteDetokenizer(lambda i: pieces[i]))
    assert s.push(0, is_eos=False) == ""
    assert s.push(1, is_eos=False) == "Paris"
    assert (s.done, s.finish_reason) == (True, "length")


def test_text_stream_end_of_sequence_is_not_shown() -> None:
    s = TextStream(SamplingParams(max_tokens=5), ByteDetokenizer(lambda i: b"<eos>"))
    assert s.push(9, is_eos=True) == ""
    assert s.finish_reason == "stop" and s.n_generated == 1


def test_greedy_sampling_is_argmax_and_seeded_sampling_repeats() -> None:
    logits = np.array([0.1, 3.0, 2.9, -1.0], dtype=np.float32)
    assert sample(logits, SamplingParams(), np.random.default_rng(0)) == 1
    hot = SamplingParams(temperature=1.5, top_p=0.9, seed=3)
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    draws = [sample(logits, hot, first) for _ in range(30)]
    assert draws == [sample(logits, hot, second) for _ in range(30)]
    assert set(draws) == {1, 2}  # top-p 0.9 keeps only the two likely tokens


def test_log_softmax_matches_numpy() -> None:
    logits = np.random.default_rng(0).normal(size=1000).astype(np.float32) * 20
    ref = logits.astype(np.float64) - np.log(np.exp(logits.astype(np.float64)).sum())
    assert log_softmax_at(logits, 17) == pytest.approx(ref[17], abs=1e-9)


@pytest.mark.parametrize(
    ("held", "wanted", "have_logits", "kept"),
    [
        ([2, 5, 6], [2, 5, 6, 7], True, 3),  # plain append
        ([2, 5, 6], [2, 5, 9], True, 2),  # last token re-tokenized differently
        ([2, 5, 6], [2, 5, 6], True, 3),  # nothing new, logits known
        ([2, 5, 6], [2, 5, 6], False, 2),  # nothing new, logits lost: recompute the last token
        ([2, 5, 6, 7], [2, 5, 6], True, 2),  # cache holds more (decoded tokens): recompute the last
        ([], [2, 5], False, 0),
    ],
)
def test_reuse_length(held, wanted, have_logits, kept) -> None:
    assert reuse_length(held, wanted, have_logits=have_logits) == kept


def test_prefill_rounds_keep_each_sessions_order() -> None:
    assert prefill_rounds(["a", "b", "a", "c", "a", "b"]) == [[0, 1, 3], [2, 5], [4]]
