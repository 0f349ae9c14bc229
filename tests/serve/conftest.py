"""A real ``ayo serve`` process per test, on a free localhost port, driven over HTTP.

``start_server(*workflows, options...)`` starts ``python -m ayo_trace.serve.cli serve`` on the
scripted engines of ``tests/fixtures/serve_engines.toml`` (or the options given), waits until
``/healthz`` answers, and returns a ``Server``; every server a test started is stopped in its
teardown (SIGTERM, then SIGKILL if it does not exit)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
APP = FIXTURES / "serve_app.py"
SCRIPTED = FIXTURES / "serve_engines.toml"
START_TIMEOUT_S = 240.0  # generous: the machine is shared, and the real engines load models


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log: IO[str]  # the server's stdout and stderr (a file: a pipe could fill up and stall it)

    def terminate(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 60.0) -> tuple[int, str]:
        """SIGTERM, wait for the exit; the exit code and everything the server logged."""
        if self.process.poll() is None:
            self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.seek(0)
        return self.process.returncode, self.log.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*workflows: str, config: Path = SCRIPTED, extra: tuple[str, ...] = ()) -> Server:
        port = free_port()
        refs = [f"{APP}:{w}" if ":" not in w else w for w in workflows]
        cmd = [sys.executable, "-m", "ayo_trace.serve.cli", "serve", *refs, "--port", str(port)]
        cmd += ["--config", str(config), "--log-level", "info", *extra]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in the teardown)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        server = Server(f"http://127.0.0.1:{port}", proc, log)
        started.append(server)
        until = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < until:
            if proc.poll() is not None:
                code, out = server.stop()
                raise AssertionError(f"the server exited with {code}:\n{out}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer /healthz in {START_TIMEOUT_S}s")

    yield start
    for server in started:
        server.stop()
        server.log.close()
