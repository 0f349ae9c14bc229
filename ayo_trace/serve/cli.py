"""The ``ayo`` command: ``run``, ``graph``, ``serve`` and ``demo``.

A workflow is named as ``path/to/app.py:name`` (or ``package.module:name``). Engines come from
``--config`` (a TOML engine config, see ``ayo.load_config``), else ``$AYO_TRACE_CONFIG``, else the
offline defaults. We use click (typer is a layer over it): explicit options such as the
``--text/--mermaid/--dot`` switch map onto it directly, and its ``CliRunner`` tests commands in-process.

    ayo run examples/naive_rag.py:naive_rag --args '{"question": "...", "docs": ["..."]}' [--stream]
    ayo graph examples/naive_rag.py:naive_rag --optimized --mermaid
    ayo serve examples/naive_rag.py:naive_rag --port 8000
    ayo demo "How do I copy a file?"
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import anyio
import click

from ..backend.config import load_config, load_runtime_options
from ..backend.runtime import Runtime
from ..frontend.workflow import eager as eager_mode
from .apps import AppError, load_workflow, parse_args, placeholder_args, to_json


def _load(ref: str) -> Any:
    try:
        return load_workflow(ref)[1]
    except AppError as exc:
        raise click.BadParameter(str(exc), param_hint="WORKFLOW") from exc


def _args(text: str | None) -> tuple[list[Any], dict[str, Any]]:
    try:
        return parse_args(text)
    except AppError as exc:
        raise click.BadParameter(str(exc), param_hint="--args") from exc


def _max_active(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise click.BadParameter(
            f"a number of queries (at least 1) or auto, got {value!r}", param_hint="--max-active"
        )
    return n


def _runtime(config: str | None, **options: Any) -> Runtime:
    """A runtime on the engines of ``config`` (a TOML file; None: ``$AYO_TRACE_CONFIG`` or the
    offline defaults), with its ``[runtime]`` table's cluster options."""
    if config is None:
        return Runtime(**options)
    table = load_runtime_options(config)
    return Runtime(
        engines=load_config(config),
        cluster=table.get("cluster"),
        ray_address=table.get("ray_address"),
        **options,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ayo-trace: trace plain async Python LLM workflows, optimize them, run and serve them."""


@main.command()
@click.argument("workflow")
@click.option("--args", "args_json", help="The arguments as JSON: an object (by name) or a list.")
@click.option("--stream", is_flag=True, help="Print the answer as it is decoded, then nothing else.")
@click.option("--events", is_flag=True, help="Print every stream event as a JSON line.")
@click.option("--eager", is_flag=True, help="Run it as plain Python (the reference semantics).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Engine config (TOML).")
@click.option("--deadline", type=float, help="The query's deadline in seconds.")
def run(
    workflow: str,
    args_json: str | None,
    stream: bool,
    events: bool,
    eager: bool,
    config: str | None,
    deadline: float | None,
) -> None:
    """Call WORKFLOW (path/app.py:name) once and print its result as JSON (a str result as text)."""
    wf = _load(workflow)
    args, kwargs = _args(args_json)

    async def go() -> None:
        async with _runtime(config, progress=False):
            if eager:
                with eager_mode():
                    await _run(wf, args, kwargs, stream, events, deadline)
            else:
                await _run(wf, args, kwargs, stream, events, deadline)

    anyio.run(go)


async def _run(
    wf: Any, args: list[Any], kwargs: dict[str, Any], stream: bool, events: bool, deadline: float | None
) -> None:
    query = wf.query(*args, **kwargs)
    if not (stream or events):
        _print_result(await query.run(deadline))
        return
    streamed = False
    async for event in query.stream(deadline):
        if events:
            from dataclasses import asdict

            click.echo(json.dumps({"kind": event.kind, **to_json(asdict(event))}))
        elif event.kind == "token":
            streamed = True
            click.echo(event.text, nl=False)
            sys.stdout.flush()
        elif event.kind == "result":
            if streamed:
                click.echo()
            else:  # nothing streamed (the result is not an LLM's text as decoded): print it whole
                _print_result(event.value)


def _print_result(value: Any) -> None:
    click.echo(value if isinstance(value, str) else json.dumps(to_json(value), indent=2))


@main.command()
@click.argument("workflow")
@click.option("--args", "args_json", help="Arguments to trace with, as JSON (default: placeholders).")
@click.option("--optimized", is_flag=True, help="The graph after the workflow's passes.")
@click.option("--text", "fmt", flag_value="text", default=True, help="One node per line (default).")
@click.option("--mermaid", "fmt", flag_value="mermaid", help="Mermaid flowchart.")
@click.option("--dot", "fmt", flag_value="dot", help="Graphviz DOT.")
@click.option("--explain", is_flag=True, help="Guards, graph breaks and what each pass changed.")
def graph(workflow: str, args_json: str | None, optimized: bool, fmt: str, explain: bool) -> None:
    """Print WORKFLOW's graph as wf.graph(...) gives it (str, to_mermaid(), to_dot()).

    Only static arguments (ints, floats, bools, None, those marked static=) change the graph; without
    --args every parameter is traced with a placeholder or its default."""
    wf = _load(workflow)
    args, kwargs = _args(args_json)
    if not args and not kwargs:
        kwargs = placeholder_args(wf)
    if explain:
        click.echo(wf.explain(*args, **kwargs))
        return
    g = wf.graph(*args, optimized=optimized, **kwargs)
    click.echo(str(g) if fmt == "text" else g.to_mermaid() if fmt == "mermaid" else g.to_dot())


@main.command()
@click.argument("workflows", nargs=-1, required=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on (0: any free one).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Engine config (TOML).")
@click.option(
    "--max-active",
    default="auto",
    show_default=True,
    help="Queries in service at once: a number, or auto (8 with an LLM on the CPU, else 16).",
)
@click.option(
    "--max-queue",
    type=int,
    default=1024,
    show_default=True,
    help="Queries waiting to start; one more is refused with --overload-status.",
)
@click.option(
    "--overload-status",
    type=click.Choice(["429", "503"]),
    default="503",
    show_default=True,
    help="The status of a request past --max-active and --max-queue (both with Retry-After).",
)
@click.option("--deadline", type=float, help="Default query deadline in seconds.")
@click.option("--no-batching", is_flag=True, help="Turn cross-request batching off.")
@click.option(
    "--graceful-timeout",
    type=int,
    default=30,
    show_default=True,
    help="Seconds to let requests in flight finish on shutdown; then they are cancelled.",
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    workflows: Sequence[str],
    host: str,
    port: int,
    config: str | None,
    max_active: str,
    max_queue: int,
    overload_status: str,
    deadline: float | None,
    no_batching: bool,
    graceful_timeout: int,
    log_level: str,
) -> None:
    """Serve WORKFLOWS (path/app.py:name ...) over HTTP, all on one runtime (see docs/serving.md)."""
    import logging

    import uvicorn

    from .app import create_app

    loaded = {}
    for ref in workflows:
        try:
            name, wf = load_workflow(ref)
        except AppError as exc:
            raise click.BadParameter(str(exc), param_hint="WORKFLOWS") from exc
        if name in loaded:
            raise click.BadParameter(f"two workflows are named {name!r}", param_hint="WORKFLOWS")
        loaded[name] = wf
    runtime = _runtime(
        config,
        batching=not no_batching,
        max_active=_max_active(max_active),
        max_queue=max_queue,
        deadline_s=deadline,
        progress=False,
    )
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(loaded, runtime, overload_status=int(overload_status)),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=graceful_timeout,
    )


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.argument("demo_args", nargs=-1, type=click.UNPROCESSED)
def demo(demo_args: Sequence[str]) -> None:
    """The demo: RAG over the standard library's docstrings (the same as ayo-demo; -h for its options)."""
    from ..demo import main as demo_main

    sys.exit(demo_main(list(demo_args)))


__all__ = ["main"]
if __name__ == "__main__":
    main()
