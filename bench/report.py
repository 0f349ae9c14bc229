"""What every benchmark writes into ``bench/RESULTS.md``: the machine line and its own section.

A benchmark owns one ``## ...`` section and rewrites it on each run, leaving the other sections alone.
A reading written by hand under the marker ``READING`` survives the rewrite: everything from the
marker to the end of the old section is carried over below the new figures, so the figures stay
machine-written and the words stay human-written (reread them against the new figures).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
READING = "<!-- reading: written by hand; kept when the benchmark rewrites this section -->"


def machine() -> str:
    """``'<cpu model>, <n> cores, Python <version>'`` for the report's machine line."""
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, for saying how busy the machine was."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def interleaved_header(
    script: str, argv: Sequence[str], load_before: str, minutes: float, rounds: int
) -> str:
    """The line that opens a section of interleaved runs on the default runtime: the command, the
    machine, its load before and after, the time taken."""
    cmd = f"python bench/{script} " + " ".join(argv)
    return (
        f"`{cmd}` on {machine()}; load average before {load_before}, after {load_average()}; "
        f"{minutes:.1f} min. Default `ayo.Runtime()`; medians of {rounds} interleaved rounds."
    )


def measure_and_report(
    script: str,
    heading: str,
    measure: Callable[[Any], Awaitable[dict[str, Any]]],
    table: Callable[[dict[str, Any], Sequence[int]], str],
    args: Any,
    argv: Sequence[str] | None,
) -> dict[str, Any]:
    """Run ``measure(args)``, print its ``table``, and with ``args.write`` (and results) rewrite
    ``heading``'s section of RESULTS.md under an ``interleaved_header``: what the benchmarks of
    interleaved runs on the default runtime share."""
    load_before = load_average()
    t = time.perf_counter()
    results = anyio.run(measure, args)
    minutes = (time.perf_counter() - t) / 60
    text = table(results, args.concurrency)
    print(text)
    if args.write and results:
        given = argv if argv is not None else sys.argv[1:]
        write_section(
            heading, f"{interleaved_header(script, given, load_before, minutes, args.rounds)}\n\n{text}"
        )
    return results


def write_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section under ``heading`` with ``body``, keeping its hand-written reading."""
    doc = path.read_text() if path.exists() else "# Benchmark results\n"
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    new = [heading, "", body.strip()]
    if start is None:
        lines += ["", *new]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        old = lines[start:end]
        mark = next((i for i, line in enumerate(old) if line.strip() == READING), None)
        if mark is not None:
            new += ["", *old[mark:]]
        while new[-1] == "":
            new.pop()
        lines[start:end] = [*new, *([""] if end < len(lines) else [])]
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
