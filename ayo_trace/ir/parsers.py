"""Output parsers for ``ayo.llm(..., parse=...)``.

``ayo.lines`` and ``ayo.json_list`` turn an LLM's text into a list of items. They are incremental:
``feed`` takes the next text delta and returns the items it could close, ``close`` returns the rest.
Feeding the text in any split gives exactly the items of ``parse(text)``, which is what lets decode
pipelining stream items on while the LLM is still writing (and what the property tests check).

``output_parser`` turns any other ``parse=`` value into a parser of the whole text:

* a pydantic model class or a JSON schema (a ``dict``): ``SchemaParser``. Its ``constrain`` puts the
  schema into the sampling parameters, so engines that support constrained decoding (llama.cpp, by
  a grammar built from the schema) only write JSON valid for it; the result is validated (a model
  instance, or the JSON value for a ``dict`` schema) and an invalid output raises ``OutputError``.
  A model's list fields (``steps: list[Step]``) are read as the text arrives (``json_items.py``):
  each item, validated, is a ``FieldItem`` as soon as it closes (``wf.stream`` shows them);
* ``list[X]`` (X a model or any type pydantic validates): ``ListParser``, a ``SchemaParser`` of a
  JSON array whose value is the list, each item validated as it closes, so decode pipelining
  streams the items into a map over them as ``ayo.json_list``'s;
* any other callable: ``CallParser``, the callable applied to the whole text, the same eager and
  traced (an exception it raises becomes an ``OutputError`` chained to it).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..errors import AyoError, InvalidParams, OutputError
from .json_items import JsonItems, list_field_owners, list_fields, list_item_type
from .params import SamplingParams

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

    @property
    def streams(self) -> bool:
        """Whether its value is the list of items ``incremental`` closes (decode pipelining streams them)."""
        return True

    def result(self, text: str, items: list[Any]) -> Any:
        """The value of the LLM call, given its whole text and the items closed along the way."""
        return items

    def constrain(self, sampling: SamplingParams) -> SamplingParams:
        """The sampling parameters that make an engine write what this parser reads."""
        return sampling

    def __repr__(self) -> str:
        return self.name


class _NoItems:
    def feed(self, delta: str) -> list[Any]:
        return []

    def close(self) -> list[Any]:
        return []


@dataclass(frozen=True, repr=False)
class SchemaParser(Parser):
    """JSON valid for ``schema`` (JSON text); validated by ``model`` (a pydantic model class) when
    given, else by the schema itself (``jsonschema``)."""

    schema: str = "{}"
    model: Any = None

    @property
    def streams(self) -> bool:
        return False

    def incremental(self) -> ItemParser:
        fields = list_fields(self.model)
        if not fields:
            return _NoItems()
        owners = list_field_owners(self.model)

        def convert(field: str | None, value: Any) -> Any:
            assert field is not None  # an object's fields are watched, so every item has one
            return _validated(fields[field], value, f"{self.name}.{field}", owner=owners[field])

        return JsonItems(fields, convert)

    def constrain(self, sampling: SamplingParams) -> SamplingParams:
        return replace(sampling, json_schema=self.schema)

    def result(self, text: str, items: list[Any]) -> Any:
        try:
            value = _first_json(text)
        except ValueError as exc:
            raise OutputError(
                f"the output is not JSON for parse={self.name}: {exc}; it was {text!r}", text=text
            ) from None
        if self.model is not None:
            try:
                return self.model.model_validate(value)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                raise OutputError(f"the output is not a valid {self.name}: {exc}", text=text) from exc
        import jsonschema

        try:
            jsonschema.validate(value, json.loads(self.schema))
        except jsonschema.ValidationError as exc:
            raise OutputError(
                f"the output is not valid for the schema: {exc.message}; it was {text!r}", text=text
            ) from exc
        return value


@dataclass(frozen=True, repr=False)
class ListParser(SchemaParser):
    """``parse=list[X]``: a JSON array of ``X`` (``item``); its value is the validated list, and each
    item streams on (validated) as soon as it closes."""

    item: Any = None

    @property
    def streams(self) -> bool:
        return True

    def incremental(self) -> ItemParser:
        return JsonItems(None, lambda field, value: _validated(self.item, value, f"item of {self.name}"))

    def result(self, text: str, items: list[Any]) -> Any:
        try:
            value = _first_json(text[text.find("[") :] if "[" in text else text)
        except ValueError as exc:
            raise OutputError(
                f"the output is not JSON for parse={self.name}: {exc}; it was {text!r}", text=text
            ) from None
        if not isinstance(value, list):
            raise OutputError(f"the output is not a JSON array for parse={self.name}: {text!r}", text=text)
        return _validated(self.model, value, self.name, text)


@functools.lru_cache(maxsize=256)
def _adapter(kind: Any, owner: Any = None) -> Any:
    from pydantic import PydanticUserError, TypeAdapter

    config = getattr(owner, "model_config", None)
    if config:
        try:
            return TypeAdapter(kind, config=config)
        except PydanticUserError:  # a model, dataclass or TypedDict: its own config applies instead
            pass
    return TypeAdapter(kind)


def _validated(kind: Any, value: Any, what: str, text: str = "", owner: Any = None) -> Any:
    """``value`` validated as ``kind`` (any type pydantic validates), under the config of the model
    ``owner`` that declares it, as validating that model would; ``OutputError`` if it is not."""
    from pydantic import ValidationError

    try:
        return _adapter(kind, owner).validate_python(value)
    except ValidationError as exc:
        raise OutputError(f"the output is not a valid {what}: {exc}", text=text) from exc


@dataclass(frozen=True, repr=False)
class CallParser(Parser):
    """``fn(text)``: a custom parser, applied to the whole output."""

    fn: Any = None

    @property
    def streams(self) -> bool:
        return False

    def incremental(self) -> ItemParser:
        return _NoItems()

    def result(self, text: str, items: list[Any]) -> Any:
        try:
            return self.fn(text)
        except AyoError:
            raise
        except Exception as exc:
            raise OutputError(f"parse={self.name} raised {type(exc).__name__}: {exc}", text=text) from exc


def _first_json(text: str) -> Any:
    """The first JSON object or array in ``text`` (text around it is ignored)."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object or array in it")
    value, _ = json.JSONDecoder().raw_decode(text, min(starts))
    return value


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and callable(getattr(value, "model_json_schema", None))


def output_parser(parse: Any) -> Parser | None:
    """The parser for a ``parse=`` value: ``ayo.lines``/``ayo.json_list`` as they are, a pydantic
    model class or a JSON schema ``dict`` as a ``SchemaParser``, any other callable as a
    ``CallParser``; ``InvalidParams`` for anything else."""
    if parse is None or isinstance(parse, Parser):
        return parse
    item = list_item_type(parse)
    if item is not None:
        return _list_parser(parse, item)
    if _is_model(parse):
        return SchemaParser(parse.__name__, json.dumps(parse.model_json_schema(), sort_keys=True), parse)
    if isinstance(parse, dict):
        try:
            text = json.dumps(parse, sort_keys=True)
            import jsonschema

            jsonschema.validators.validator_for(parse).check_schema(parse)
        except (TypeError, ValueError) as exc:
            raise InvalidParams(f"parse= got a dict that is not a JSON schema: {exc}", param="parse") from exc
        except Exception as exc:  # jsonschema.SchemaError
            raise InvalidParams(f"parse= got an invalid JSON schema: {exc}", param="parse") from exc
        return SchemaParser("schema", text)
    if callable(parse):
        name = (
            getattr(parse, "__qualname__", None) or getattr(parse, "__name__", None) or type(parse).__name__
        )
        return CallParser(str(name), parse)
    raise InvalidParams(
        "parse= takes ayo.lines, ayo.json_list, a pydantic model class, a JSON schema dict or a callable "
        f"(text -> value), got {parse!r}",
        param="parse",
    )


def _list_parser(kind: Any, item: Any) -> ListParser:
    from pydantic import PydanticSchemaGenerationError, TypeAdapter

    name = f"list[{getattr(item, '__name__', None) or repr(item)}]"
    try:
        schema = TypeAdapter(kind).json_schema()
    except PydanticSchemaGenerationError as exc:
        raise InvalidParams(
            f"parse={name}: pydantic cannot validate its items: {exc}", param="parse"
        ) from exc
    return ListParser(name, json.dumps(schema, sort_keys=True), kind, item)


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
