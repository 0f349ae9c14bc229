"""A tiny scripted HTTP server on localhost that speaks just enough of the OpenAI API to test the
client side of the OpenAI-compatible engines: retries, timeouts, the concurrency limit and the key.

``FakeOpenAI.reply`` decides each answer from the request (method, path, JSON body, headers): a
status and a JSON body, ``(200, DROPPED)`` for the headers of an event stream and then a closed
connection, or ``None`` to never answer. ``requests`` records every request and
``peak`` the most requests open at once. Every answer closes its connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import SocketStream


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Reply = tuple[int, Any] | None


def completion(text: str = " Paris", finish: str = "length") -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 0,
        "model": "fake",
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


DROPPED = object()  # a stream answered, then closed before its first event

MODELS = {"object": "list", "data": [{"id": "fake", "object": "model", "created": 0, "owned_by": "me"}]}


@dataclass
class FakeOpenAI:
    reply: Callable[[Seen], Reply]
    hold_s: float = 0.0  # how long each answer is held back
    requests: list[Seen] = field(default_factory=list)
    open_now: int = 0
    peak: int = 0
    url: str = ""

    async def _serve(self, client: SocketStream) -> None:
        async with client:
            data = b""
            while b"\r\n\r\n" not in data:
                data += await client.receive()
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
            while len(body) < int(headers.get("content-length", 0)):
                body += await client.receive()
            seen = Seen(method, path, headers, json.loads(body) if body else None)
            self.requests.append(seen)
            self.open_now += 1
            self.peak = max(self.peak, self.open_now)
            try:
                answer = (200, MODELS) if path.endswith("/models") else self.reply(seen)
                if answer is None:
                    await anyio.sleep_forever()
                    return
                await anyio.sleep(self.hold_s)
                status, payload = answer
                if payload is DROPPED:
                    head = "content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
                    await client.send(f"HTTP/1.1 200 OK\r\n{head}\r\n".encode())
                    return
                raw = json.dumps(payload).encode()
                await client.send(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(raw)}\r\n"
                    f"connection: close\r\n\r\n".encode()
                    + raw
                )
            finally:
                self.open_now -= 1


@asynccontextmanager
async def fake_openai(reply: Callable[[Seen], Reply], hold_s: float = 0.0) -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI(reply, hold_s)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.url = f"http://127.0.0.1:{listener.extra(anyio.abc.SocketAttribute.local_port)}/v1"
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server._serve)
        try:
            yield server
        finally:
            tg.cancel_scope.cancel()
