"""llama-cpp-python's OpenAI-compatible server, with the CPU workaround the in-process engine uses.

::

    python -m ayo_trace.backend.engines.llama_server --port 8080 [--model PATH] [server options]

runs ``python -m llama_cpp.server`` (extra ``openai``: ``llama-cpp-python[server]``) with two changes:

* On a CPU with AMX tiles, weights load without llama.cpp's extra buffer types, exactly as
  ``LlamaCppEngine`` does (``llama_cpp.cpu_has_amx``): llama-cpp-python 0.3.36's ggml segfaults in
  its AMX matmul on the first decode otherwise, and the server has no option or environment variable
  that turns the extra buffer types off (its model settings do not expose ``use_extra_bufts``).
* ``--model`` defaults to the shipped Gemma 3 270M GGUF (``models.default_gguf_path``).

Every other option is the server's own (``--n_ctx``, ``--n_threads``, ``--embedding``, ...; see
``python -m llama_cpp.server --help``). Keep ``--interrupt_requests False`` when several clients
stream at once: by default a new request ends the stream in progress.

``running(*options)`` runs the server as a subprocess on a free local port for as long as a
``with`` block lasts (tests and benchmarks use it): it waits until ``/v1/models`` answers, yields
the base URL, and terminates the server at the end.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...errors import EngineError

START_TIMEOUT_S = 120.0


def without_extra_buffer_types() -> None:
    """Make every llama.cpp model this process loads use plain CPU weight buffers."""
    import llama_cpp.llama_cpp as lib

    defaults = lib.llama_model_default_params
    if getattr(defaults, "_ayo_plain_buffers", False):
        return

    def plain() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    plain._ayo_plain_buffers = True  # type: ignore[attr-defined]
    lib.llama_model_default_params = plain


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(*options: str, model: str | Path | None = None, threads: int = 1) -> Iterator[str]:
    """Run the server (this module) on ``model`` (default: the shipped GGUF) with ``threads`` compute
    threads and the server ``options``, streams never interrupted; yields its base URL."""
    from .models import default_gguf_path

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        __name__,
        "--model",
        str(model or default_gguf_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        "--interrupt_requests",
        "False",
        "--verbose",
        "False",
        *options,
    ]
    root = str(Path(__file__).resolve().parents[3])  # this package, whether installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise EngineError(f"the llama.cpp server exited with status {proc.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"the llama.cpp server did not answer within {START_TIMEOUT_S} s"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def main(argv: Sequence[str] | None = None) -> None:
    from llama_cpp.server.__main__ import main as serve

    from .llama_cpp import cpu_has_amx
    from .models import default_gguf_path

    args = list(sys.argv[1:] if argv is None else argv)
    if cpu_has_amx():
        without_extra_buffer_types()
    if not any(a == "--model" or a.startswith("--model=") for a in args):
        args = ["--model", str(default_gguf_path()), *args]
    sys.argv = [sys.argv[0], *args]
    serve()


if __name__ == "__main__":
    main()
