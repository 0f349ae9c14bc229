"""Output parsers for ``ayo.llm(..., parse=...)``.

A parser turns an LLM's text into a list of items. Every parser is incremental: ``feed`` takes the
next text delta and returns the items it could close, ``close`` returns the rest. Feeding the text in
any split gives exactly the items of ``parse(text)``, which is what lets decode pipelining stream
items on while the LLM is still writing (and what the property tests check).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


class ItemParser(Protocol):
    def feed(self, delta: str) -> list[Any]: ...

    def close(self) -> list[Any]: ...


@dataclass(frozen=True)
class Parser:
    """A named, stateless description of a parser; ``incremental()`` makes its per-run state."""

    name: str

    def incremental(self) -> ItemParser:
        if self.name == "lines":
            return _LinesParser()
        if self.name == "json_list":
            return _JsonListParser()
        raise ValueError(f"unknown parser {self.name!r}")

    def parse(self, text: str) -> list[Any]:
        p = self.incremental()
        return p.feed(text) + p.close()

    def __repr__(self) -> str:
        return self.name


def _clean_line(line: str) -> str | None:
    line = _BULLET.sub("", line).strip()
    return line or None


class _LinesParser:
    """One item per non-empty line, list bullets and numbering stripped."""

    def __init__(self) -> None:
        self._buf = ""

    def feed(self, delta: str) -> list[Any]:
        self._buf += delta
        *done, self._buf = self._buf.split("\n")
        return [c for c in map(_clean_line, done) if c is not None]

    def close(self) -> list[Any]:
        rest, self._buf = self._buf, ""
        c = _clean_line(rest)
        return [] if c is None else [c]


class _JsonListParser:
    """Items of the first JSON array in the text, each closed as soon as its closing token arrives.

    Text before the ``[`` and after the matching ``]`` is ignored. An item that does not parse as
    JSON is kept as its stripped text, so a sloppy model still yields its items.
    """

    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._item = ""
        self._depth = 0
        self._in_str = False
        self._escape = False

    def _emit(self, out: list[Any]) -> None:
        raw = self._item.strip()
        self._item = ""
        if not raw:
            return
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            out.append(raw.strip('"'))

    def feed(self, delta: str) -> list[Any]:
        out: list[Any] = []
        for ch in delta:
            if self._finished:
                break
            if not self._started:
                self._started = ch == "["
                continue
            if self._in_str:
                self._item += ch
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_str = False
                continue
            if ch == '"':
                self._in_str = True
                self._item += ch
            elif ch in "[{":
                self._depth += 1
                self._item += ch
            elif ch in "]}" and self._depth > 0:
                self._depth -= 1
                self._item += ch
            elif ch == "]":
                self._emit(out)
                self._finished = True
            elif ch == "," and self._depth == 0:
                self._emit(out)
            else:
                self._item += ch
        return out

    def close(self) -> list[Any]:
        out: list[Any] = []
        if self._started and not self._finished:
            self._emit(out)
        self._finished = True
        return out


lines = Parser("lines")
json_list = Parser("json_list")

PARSERS = {p.name: p for p in (lines, json_list)}
