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
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


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
