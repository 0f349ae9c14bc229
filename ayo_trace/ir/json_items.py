"""The items of JSON lists, closed one by one as an LLM writes the JSON (``parse=`` a schema).

``JsonItems`` reads the text in any split (``feed`` each delta, then ``close``) and returns each item
of the watched arrays as soon as the token that ends it (the ``,`` or ``]`` after it) arrives:

* ``fields=None``: the document is one array (``parse=list[Step]``), and its items are watched;
* ``fields`` a set of key paths: the document is an object (``parse=Plan``), and the arrays at
  those paths of it are watched: ``steps`` is the value of its key ``steps`` (``Plan.steps``),
  ``section.items`` the value of the key ``items`` of the object at its key ``section``
  (``Plan.section.items``). A path goes through objects only: an array inside a watched array's
  item is part of that item.

A key that repeats in an object on the way to a watched array (``{"steps": [...], "steps": [...]}``)
raises ``OutputError`` as soon as it is read: the whole document's value holds the last one only,
so the items already returned would not be its items. Text before the document (a sloppy model's
preamble) and after it is ignored. An item is the JSON
text between its separators, decoded with ``json.loads`` and handed to ``convert(field, value)``
(the parser validates it there). An item still open at ``close`` is not returned: the document is
incomplete, and validating the whole text says so.

Why not ``jiter``'s partial mode (which pydantic already installs): it parses a prefix of the text
into a value, so telling a finished item from one cut short (``12`` of ``123``, an object missing
its last field) would need the next item to appear first, and re-parsing the growing text at each
delta costs time quadratic in the output. Tracking the nesting as the characters arrive knows
exactly when an item ends, in one pass.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ..errors import OutputError

_SPACE = " \t\r\n"


@dataclass(frozen=True)
class FieldItem:
    """Item ``index`` of the list field ``field`` of a structured output, as soon as it closed
    (``field``: its key path, the keys joined by dots, e.g. ``section.items``)."""

    field: str
    index: int
    value: Any


class JsonItems:
    """An incremental reader of the items of JSON arrays (see the module docstring)."""

    def __init__(
        self, fields: Collection[str] | None, convert: Callable[[str | None, Any], Any] | None = None
    ) -> None:
        self.fields = None if fields is None else frozenset(fields)
        # the key paths on the way to a watched array (and its own), whose keys must not repeat
        self._guarded = frozenset(
            ".".join(keys[:n])
            for f in self.fields or ()
            for keys in [f.split(".")]
            for n in range(1, len(keys) + 1)
        )
        self.convert = convert or (lambda field, value: value)
        self._root = "[" if fields is None else "{"
        self._text = ""
        # per open container: [opener, expecting a key, last key, the guarded keys it has had]
        self._stack: list[list[Any]] = []
        self._started = self._done = False
        self._in_str = self._escape = False
        self._str_start = 0
        self._str_is_key = False
        self._watch_depth = 0  # the depth of the array being watched (0: none)
        self._field: str | None = None
        self._index = 0
        self._item_start: int | None = None

    def feed(self, delta: str) -> list[Any]:
        out: list[Any] = []
        start = len(self._text)
        self._text += delta
        for i in range(start, len(self._text)):
            if self._done:
                break
            self._step(i, self._text[i], out)
        return out

    def close(self) -> list[Any]:
        self._done = True
        return []

    def _step(self, i: int, c: str, out: list[Any]) -> None:
        if not self._started:
            if c == self._root:
                self._started = True
                self._open(c)
                if self.fields is None:
                    self._watch(None)
            return
        if self._in_str:
            if self._escape:
                self._escape = False
            elif c == "\\":
                self._escape = True
            elif c == '"':
                self._in_str = False
                if self._str_is_key:
                    self._key(json.loads(self._text[self._str_start : i + 1]))
            return
        stack = self._stack
        watching = self._watch_depth and len(stack) == self._watch_depth
        if watching and self._item_start is None and c not in _SPACE and c not in ",]":
            self._item_start = i  # an item of the watched array begins here
        if c == '"':
            self._in_str, self._str_start = True, i
            self._str_is_key = stack[-1][0] == "{" and stack[-1][1]
        elif c in "{[":
            path = self._path() if c == "[" else None
            self._open(c)
            if path is not None:
                self._watch(path)
        elif c in "}]":
            if watching:
                self._close_item(i, out)
                self._watch_depth = 0
            stack.pop()
            if not stack:
                self._done = True
        elif c == ",":
            if watching:
                self._close_item(i, out)
            if stack[-1][0] == "{":
                stack[-1][1] = True
        elif c == ":" and stack[-1][0] == "{":
            stack[-1][1] = False

    def _path(self) -> str | None:
        """The key path of the value beginning here when it is a watched field, else None."""
        if self.fields is None or not all(entry[0] == "{" and not entry[1] for entry in self._stack):
            return None
        path = ".".join(str(entry[2]) for entry in self._stack)
        return path if path in self.fields else None

    def _key(self, key: str) -> None:
        entry = self._stack[-1]
        entry[2] = key
        if not self._guarded or not all(e[0] == "{" and not e[1] for e in self._stack[:-1]):
            return
        path = ".".join([*(str(e[2]) for e in self._stack[:-1]), key])
        if path in self._guarded:
            if key in entry[3]:
                raise OutputError(
                    f"the output holds the key {path!r} twice, and the items of its list were read "
                    "from the first one already; the whole JSON means the last one",
                    text=self._text,
                )
            entry[3].add(key)

    def _open(self, c: str) -> None:
        self._stack.append([c, c == "{", None, set()])

    def _watch(self, field: str | None) -> None:
        self._watch_depth, self._field, self._index, self._item_start = len(self._stack), field, 0, None

    def _close_item(self, end: int, out: list[Any]) -> None:
        if self._item_start is None:
            return
        raw = self._text[self._item_start : end]
        self._item_start = None
        value = self.convert(self._field, json.loads(raw))
        out.append(value if self._field is None else FieldItem(self._field, self._index, value))
        self._index += 1


def list_item_type(annotation: Any) -> Any:
    """``X`` of ``list[X]`` (``typing.List[X]``, also inside ``Annotated[list[X], ...]``), ``Any``
    for a bare ``list``, else None."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation is list:
        return Any
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        return args[0] if args else Any
    return None


def list_fields(model: Any) -> dict[str, Any]:
    """The list fields of a pydantic model class and of the models in its fields (``section:
    Section``, not through lists), by their key paths in its JSON (``steps``, ``section.items``),
    and their item types (in the order the models declare them)."""
    fields: dict[str, Any] = {}
    _collect(model, "", fields, {}, set())
    return fields


def list_field_owners(model: Any) -> dict[str, Any]:
    """The model class that declares each list field of ``list_fields(model)``: its config (say
    ``str_strip_whitespace``) applies to the field's items when they are not models themselves."""
    owners: dict[str, Any] = {}
    _collect(model, "", {}, owners, set())
    return owners


def _collect(model: Any, prefix: str, fields: dict[str, Any], owners: dict[str, Any], seen: set[Any]) -> None:
    if model in seen:  # a model that contains itself (through an optional field)
        return
    for name, info in getattr(model, "model_fields", {}).items():
        path = prefix + (info.alias or name)
        item = list_item_type(info.annotation)
        if item is not None:
            fields[path], owners[path] = item, model
        elif (inner := model_type(info.annotation)) is not None:
            _collect(inner, path + ".", fields, owners, seen | {model})


def model_type(annotation: Any) -> Any:
    """The pydantic model class ``annotation`` is (also inside ``Annotated``), else None."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    return None


__all__ = ["FieldItem", "JsonItems", "list_field_owners", "list_fields", "list_item_type", "model_type"]
