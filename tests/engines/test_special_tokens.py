"""Prompt text with markup (``ir/prompt.py``) and how engines cut it at special tokens
(``engines/_special.py``), on a toy tokenizer: special tokens count only inside markup, the cuts do
not depend on where a prompt is split, and templates keep their markup through passes and JSON."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from ayo_trace.backend.engines._special import split_special, tokenize_prompt
from ayo_trace.ir.export import from_json, to_json
from ayo_trace.ir.graph import Graph
from ayo_trace.ir.prompt import Markup, Prompt, markup_of
from ayo_trace.ir.template import Hole, Template

SPECIAL = {"<s>": 1000, "<t>": 1001}


def specials_in(markup: str) -> list[tuple[str, int]]:
    """The special tokens a special-parsing tokenizer finds in ``markup``, in order."""
    out, i = [], 0
    while i < len(markup):
        for text, tid in SPECIAL.items():
            if markup.startswith(text, i):
                out.append((text, tid))
                i += len(text)
                break
        else:
            i += 1
    return out


def tokenize(text: str, bos: bool) -> list[int]:
    """Plain text: one token per character (never a special token)."""
    return ([0] if bos else []) + [ord(c) for c in text]


pieces = st.lists(
    st.tuples(st.sampled_from(["a", "<s>", "<t>", " ", "<", "s>", "x<s"]), st.booleans()), max_size=12
)


def prompt_of(parts: list[tuple[str, bool]]) -> Prompt | str:
    return Prompt.join(Markup(t) if m else t for t, m in parts)


def reference(text: str) -> list[int]:
    """The specification: scanning left to right, a special token's text that lies wholly inside
    one markup span is that token, everything else is characters."""
    spans = markup_of(text)
    out, i = [0], 0
    while i < len(text):
        span = next(((a, b) for a, b in spans if a <= i < b), None)
        found = None
        if span is not None:
            found = next((s for s in SPECIAL if text.startswith(s, i) and i + len(s) <= span[1]), None)
        if found is not None:
            out.append(SPECIAL[found])
            i += len(found)
        else:
            out.append(ord(text[i]))
            i += 1
    return out


@given(pieces)
def test_special_tokens_count_only_inside_markup(parts: list[tuple[str, bool]]) -> None:
    text = prompt_of(parts)
    assert tokenize_prompt(text, True, tokenize, specials_in) == reference(
        str(text) if not markup_of(text) else text
    )


@given(pieces, st.integers(min_value=0, max_value=40))
def test_a_prompt_split_anywhere_joins_to_the_same_tokens(parts: list[tuple[str, bool]], at: int) -> None:
    text = prompt_of(parts)
    at = min(at, len(text))
    spans = markup_of(text)
    left = Prompt(text[:at], [(a, min(b, at)) for a, b in spans if a < at])
    right = Prompt(text[at:], [(max(a, at) - at, b - at) for a, b in spans if b > at])
    assert tokenize_prompt(Prompt.join([left, right]), True, tokenize, specials_in) == tokenize_prompt(
        text, True, tokenize, specials_in
    )


def test_text_without_markup_is_one_plain_tokenization() -> None:
    assert split_special("<s>a", specials_in) == ["<s>a"]
    assert tokenize_prompt("<s>a", True, tokenize, specials_in) == tokenize("<s>a", True)


def test_string_operations_drop_the_markup() -> None:
    p = Prompt.join([Markup("<s>"), "a"])
    assert isinstance(p, Prompt) and p.markup == ((0, 3),)
    for derived in (p + "b", p.strip(), f"{p}", p[:2], str(p)):
        assert markup_of(derived) == ()
    assert pickle.loads(pickle.dumps(p)).markup == p.markup


def test_markup_and_text_parts_stay_apart_in_a_template() -> None:
    t = Template((Markup("<s>"), Markup("u\n"), "sys", "tem", Hole(0, "content"), Markup("<t>")))
    assert t.parts == (Markup("<s>u\n"), "system", Hole(0, "content"), Markup("<t>"))
    assert isinstance(t.parts[0], Markup) and not isinstance(t.parts[1], Markup)
    rendered = t.render([" <s> "])
    assert str(rendered) == "<s>u\nsystem <s> <t>" and markup_of(rendered) == ((0, 5), (16, 19))
    assert t.prefix == "<s>u\nsystem" and t.leading_text == (Markup("<s>u\n"), "system")


def test_a_template_with_markup_round_trips_through_json() -> None:
    g = Graph("chat")
    q = g.add("input", (), {"name": "q"}, name="q")
    tpl = Template((Markup("<s>user\n"), "Be brief.", Hole(0, "content", None, "strip"), Markup("<t>")))
    g.add("output", [g.add("llm_prefill", [q], {"template": tpl, "session": "s"}, name="p")])
    back = from_json(to_json(g), Graph)
    (node,) = [n for n in back.nodes if n.op == "llm_prefill"]
    assert node.attrs["template"] == tpl
    assert [type(p) for p in node.attrs["template"].parts] == [type(p) for p in tpl.parts]
