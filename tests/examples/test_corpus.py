"""The standard-library corpus: parsed (never imported), public, chunked, deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ayo_trace.corpus import (
    DEMO_MODULES,
    MAX_WORDS,
    MIN_WORDS,
    SHORTEST,
    Passage,
    chunk_words,
    clean_docstring,
    corpus_key,
    stdlib_passages,
)


@pytest.fixture(scope="module")
def demo_corpus() -> list[Passage]:
    return stdlib_passages(modules=DEMO_MODULES)


def test_demo_corpus_is_a_few_thousand_passages(demo_corpus: list[Passage]) -> None:
    assert 1000 <= len(demo_corpus) <= 3000


def test_deterministic(demo_corpus: list[Passage]) -> None:
    again = stdlib_passages(modules=DEMO_MODULES)
    assert again == demo_corpus
    assert corpus_key(again) == corpus_key(demo_corpus)


def test_ids_and_documents_are_unique(demo_corpus: list[Passage]) -> None:
    assert len({p.id for p in demo_corpus}) == len(demo_corpus)
    assert len({p.document for p in demo_corpus}) == len(demo_corpus)


def test_chunk_sizes_are_bounded(demo_corpus: list[Passage]) -> None:
    for p in demo_corpus:
        assert SHORTEST <= len(p.text.split()) <= MAX_WORDS, p.id
    # a title split into several passages has every one of them at least MIN_WORDS long
    counts: dict[str, int] = {}
    for p in demo_corpus:
        counts[p.title] = counts.get(p.title, 0) + 1
    split = [p for p in demo_corpus if counts[p.title] > 1 and p.title != "os.path"]
    assert split and all(len(p.text.split()) >= MIN_WORDS for p in split)


def test_no_private_or_skipped_modules(demo_corpus: list[Passage]) -> None:
    full = stdlib_passages()
    assert len(full) > len(demo_corpus)
    for p in full:
        parts = p.title.split(".")
        assert not any(part.startswith("_") for part in parts), p.title
        assert parts[0] not in {"test", "idlelib", "tkinter", "lib2to3", "ensurepip", "turtledemo"}


def test_well_known_names_are_there(demo_corpus: list[Passage]) -> None:
    titles = {p.title for p in demo_corpus}
    assert {"json.dumps", "os.path.join", "subprocess.run", "pathlib.Path.glob"} <= titles
    first = next(p for p in demo_corpus if p.title == "json.dumps")
    assert first.id == "json.dumps#1"
    assert first.document.startswith("json.dumps: Serialize ``obj`` to a JSON formatted ``str``.")


def test_limit_and_module_selection() -> None:
    json_passages = stdlib_passages(modules=["json"])
    assert {p.title.split(".")[0] for p in json_passages} == {"json"}
    assert any(p.title.startswith("json.decoder.") for p in json_passages)  # submodules included
    assert stdlib_passages(limit=5, modules=["json"]) == json_passages[:5]
    assert stdlib_passages(limit=0, modules=["json"]) == []


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


DOC = "A docstring long enough to count as a passage of its own here."


def test_parses_without_importing_and_keeps_only_the_public_api(tmp_path: Path) -> None:
    write(tmp_path, "good.py", f'"""{DOC}"""\nraise SystemExit("imported!")\n')
    write(
        tmp_path,
        "pkg/__init__.py",
        f'__all__ = ["shown"]\n__all__.append("added")\n'
        f'def shown():\n    """{DOC}"""\n'
        f'def added():\n    """{DOC} Added."""\n'
        f'def hidden():\n    """{DOC} Hidden."""\n'
        f'class Klass:\n    """{DOC} Class."""\n',
    )
    write(
        tmp_path,
        "pkg/sub.py",
        f'if True:\n    def conditional():\n        """{DOC} Conditional."""\n'
        f'class Shown:\n    def method(self):\n        """{DOC} Method."""\n'
        f'    def _private(self):\n        """{DOC} Private."""\n',
    )
    write(tmp_path, "_private.py", f'"""{DOC}"""\n')
    write(tmp_path, "test/test_x.py", f'"""{DOC}"""\n')
    write(tmp_path, "idlelib/x.py", f'"""{DOC}"""\n')
    write(tmp_path, "site-packages/numpy/__init__.py", f'"""{DOC}"""\n')
    write(tmp_path, "broken.py", "def (:\n")

    titles = [p.title for p in stdlib_passages(root=tmp_path)]
    assert titles == ["good", "pkg.shown", "pkg.added", "pkg.sub.conditional", "pkg.sub.Shown.method"]


def test_clean_docstring_drops_doctests_and_indentation() -> None:
    doc = "Summary line.\n\n    More text\n    here.\n\n    >>> f(1)\n    2\n\n    Last."
    assert clean_docstring(doc) == "Summary line. More text here. Last."


@given(st.lists(st.sampled_from(["word", "end.", "two words", "x"]), min_size=0, max_size=700))
def test_chunking_keeps_every_word_in_bounded_chunks(pieces: list[str]) -> None:
    text = " ".join(pieces)
    chunks = chunk_words(text)
    words = text.split()
    if len(words) < SHORTEST:
        assert chunks == []
        return
    assert " ".join(chunks).split() == words
    assert all(len(c.split()) <= MAX_WORDS for c in chunks)
    if len(chunks) > 1:
        assert all(len(c.split()) >= MIN_WORDS for c in chunks)
