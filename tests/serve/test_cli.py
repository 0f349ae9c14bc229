"""The ``ayo`` command: ``graph`` prints what ``wf.graph(...)`` gives, ``run`` prints or streams a
result, ``demo`` is the demo; the package declares the command."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from ayo_trace.serve.apps import load_workflow, placeholder_args
from ayo_trace.serve.cli import main

from .conftest import APP, ROOT, SCRIPTED

QUESTION = "why is the sky blue?"


def ayo(*args: str) -> str:
    """The command's output, run in a fresh thread: ``ayo run`` starts its own event loop, and
    pytest's anyio runner may hold this thread's (see ``tests.util.run_in_new_loop``)."""
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, main, list(args), catch_exceptions=False).result()
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("flags", "render"),
    [
        ((), str),
        (("--text",), str),
        (("--mermaid",), lambda g: g.to_mermaid()),
        (("--dot",), lambda g: g.to_dot()),
    ],
)
@pytest.mark.parametrize("optimized", [False, True])
def test_graph_prints_what_wf_graph_gives(flags: tuple[str, ...], render: object, optimized: bool) -> None:
    ref = f"{ROOT / 'examples' / 'naive_rag.py'}:naive_rag"
    _, wf = load_workflow(ref)
    out = ayo("graph", ref, *flags, *(("--optimized",) if optimized else ()))
    assert out == render(wf.graph(**placeholder_args(wf), optimized=optimized)) + "\n"  # type: ignore[operator]


def test_graph_takes_the_arguments_to_trace_with_and_explains() -> None:
    _, wf = load_workflow(f"{APP}:rag")
    args = {"question": "q", "docs": ["a"]}
    assert ayo("graph", f"{APP}:rag", "--args", json.dumps(args)) == str(wf.graph(**args)) + "\n"
    assert ayo("graph", f"{APP}:rag", "--explain") == wf.explain(**placeholder_args(wf)) + "\n"


def test_run_prints_the_result_and_streams_it() -> None:
    config = ("--config", str(SCRIPTED))
    args = ("--args", json.dumps({"question": QUESTION}))
    plain = ayo("run", f"{APP}:answer", *args, *config)
    streamed = ayo("run", f"{APP}:answer", *args, *config, "--stream")
    eager = ayo("run", f"{APP}:answer", *args, *config, "--stream", "--eager")
    assert plain == streamed == eager
    assert plain.startswith(" Because the air scatters blue light")
    events = [
        json.loads(line) for line in ayo("run", f"{APP}:answer", *args, *config, "--events").splitlines()
    ]
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "result" and "token" in kinds and kinds.index("token") < len(kinds) - 1
    assert events[-1]["value"] + "\n" == plain


def test_run_prints_a_structured_result_as_json_and_its_items_as_events() -> None:
    config = ("--config", str(SCRIPTED))
    steps = ["boil water", "steep the tea", "pour"]
    assert json.loads(ayo("run", f"{APP}:plan", "--args", '["tea"]', *config)) == {
        "title": "Tea",
        "steps": steps,
    }
    events = [
        json.loads(line)
        for line in ayo("run", f"{APP}:plan", "--args", '["tea"]', *config, "--events").splitlines()
    ]
    assert [(e["field"], e["value"]) for e in events if e["kind"] == "item"] == [("steps", s) for s in steps]


def test_serve_refuses_an_overload_status_other_than_429_or_503() -> None:
    result = CliRunner().invoke(main, ["serve", f"{APP}:answer", "--overload-status", "500"])
    assert result.exit_code == 2 and "'500' is not one of '429', '503'" in result.output


def test_run_reports_bad_arguments_and_references() -> None:
    runner = CliRunner()
    bad_json = runner.invoke(main, ["run", f"{APP}:answer", "--args", "{nope", "--config", str(SCRIPTED)])
    assert bad_json.exit_code == 2 and "--args is not JSON" in bad_json.output
    missing = runner.invoke(main, ["graph", f"{APP}:nope"])
    assert missing.exit_code == 2 and "has no 'nope'" in missing.output
    not_wf = runner.invoke(main, ["graph", f"{APP}:QUESTION"])
    assert not_wf.exit_code == 2 and "not an @ayo.workflow" in not_wf.output


def test_demo_is_the_demo() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ayo_trace.serve.cli", "demo", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    demo = subprocess.run(
        [sys.executable, "-m", "ayo_trace.demo", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split("\n", 1)[1] == demo.split("\n", 1)[1]  # the same options (the program name differs)


def test_the_package_declares_the_commands() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ayo": "ayo_trace.serve.cli:main", "ayo-demo": "ayo_trace.demo:main"}
