"""bench/report.py: a benchmark rewrites its own section of RESULTS.md and keeps the hand-written reading."""

from __future__ import annotations

from pathlib import Path

from bench.report import READING, write_section

DOC = f"""# Benchmark results

## A (bench/a.py)

old figures of A

{READING}

Reading: A is fast, written by hand.

## B (bench/b.py)

figures of B
"""


def test_rewrite_replaces_the_figures_and_keeps_the_reading_and_other_sections(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(DOC)
    write_section("## A (bench/a.py)", "new figures of A\n", path)
    assert path.read_text() == DOC.replace("old figures of A", "new figures of A")
    write_section("## B (bench/b.py)", "new figures of B", path)
    assert path.read_text().endswith("## B (bench/b.py)\n\nnew figures of B\n")
    assert "Reading: A is fast" in path.read_text()


def test_rewrite_is_idempotent_and_appends_a_missing_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(DOC)
    write_section("## A (bench/a.py)", "old figures of A", path)
    assert path.read_text() == DOC
    write_section("## C (bench/c.py)", "figures of C", path)
    assert path.read_text() == DOC + "\n## C (bench/c.py)\n\nfigures of C\n"
    write_section("## B (bench/b.py)", "figures of B", tmp_path / "new.md")
    assert (tmp_path / "new.md").read_text() == "# Benchmark results\n\n## B (bench/b.py)\n\nfigures of B\n"
