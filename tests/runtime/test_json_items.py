"""``ir.json_items``: the items of a JSON list are closed one by one as the text arrives, in any
split, and equal the items of the whole document (property tests); the ``parse=`` values that read
them (a model's list fields, ``list[X]``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from ayo_trace.errors import OutputError
from ayo_trace.ir.json_items import FieldItem, JsonItems, list_fields, list_item_type
from ayo_trace.ir.parsers import ListParser, SchemaParser, output_parser

# JSON values whose text holds every character that means something to the reader
TEXT = st.text(alphabet=st.sampled_from(list('ab ,:[]{}"\\\n\u00e9')), max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
LAYOUTS = st.sampled_from([{}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}])


def feed_in_parts(reader: Any, text: str, cuts: list[int]) -> list[Any]:
    out: list[Any] = []
    last = 0
    for cut in [*sorted({min(c, len(text)) for c in cuts}), len(text)]:
        out += reader.feed(text[last:cut])
        last = cut
    return out + reader.close()


@settings(max_examples=200, deadline=None)
@given(items=st.lists(VALUES, max_size=5), layout=LAYOUTS, cuts=st.lists(st.integers(0, 400), max_size=12))
def test_the_items_of_a_list_are_those_of_the_whole_document_in_any_split(
    items: list[Any], layout: dict[str, Any], cuts: list[int]
) -> None:
    text = "Sure, here it is: " + json.dumps(items, **layout) + "\nand some words after [1, 2]"
    assert feed_in_parts(JsonItems(None), text, cuts) == items


@settings(max_examples=200, deadline=None)
@given(
    doc=st.dictionaries(TEXT, VALUES, max_size=5),
    layout=LAYOUTS,
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
def test_the_items_of_an_objects_list_fields_are_those_of_the_whole_document_in_any_split(
    doc: dict[str, Any], layout: dict[str, Any], cuts: list[int]
) -> None:
    watched = {k for k, v in doc.items() if isinstance(v, list)} | {"absent"}
    got = feed_in_parts(JsonItems(watched), json.dumps(doc, **layout), cuts)
    expected = [FieldItem(k, i, item) for k, v in doc.items() if k in watched for i, item in enumerate(v)]
    assert got == expected


def test_an_item_closes_with_the_token_after_it_not_before() -> None:
    reader = JsonItems(None)
    assert reader.feed('[12, {"a": [1') == [12]
    assert reader.feed("]}") == []  # the object might have more keys yet
    assert reader.feed(", 3") == [{"a": [1]}]
    assert reader.feed("4]") == [34]
    assert reader.feed(", 5]") == []  # after the document: ignored


def test_an_item_still_open_at_the_end_is_not_returned() -> None:
    reader = JsonItems({"steps"})
    assert reader.feed('{"steps": ["a", "b') == [FieldItem("steps", 0, "a")]
    assert reader.close() == []


def test_only_the_top_level_list_fields_are_watched() -> None:
    reader = JsonItems({"steps"})
    text = '{"inner": {"steps": [1, 2]}, "note": "steps: [3]", "steps": [4]}'
    assert reader.feed(text) == [FieldItem("steps", 0, 4)]


class Step(BaseModel):
    name: str


class Plan(BaseModel):
    title: str
    steps: list[Step]
    tags: list[str] = []
    size: int = 0


def test_a_models_list_fields_are_found_with_their_item_types() -> None:
    assert list_fields(Plan) == {"steps": Step, "tags": str}
    assert list_fields(Step) == {}
    assert list_item_type(Annotated[list[Step], Field(max_length=3)]) is Step
    assert list_item_type(list) is Any
    assert list_item_type(dict[str, int]) is None and list_item_type(Step) is None


def test_a_model_parser_reads_its_list_fields_items_validated() -> None:
    parser = output_parser(Plan)
    assert isinstance(parser, SchemaParser) and not parser.streams
    text = '{"title": "t", "steps": [{"name": "a"}, {"name": "b"}], "tags": ["x"]}'
    items = parser.incremental().feed(text)
    assert items == [
        FieldItem("steps", 0, Step(name="a")),
        FieldItem("steps", 1, Step(name="b")),
        FieldItem("tags", 0, "x"),
    ]
    assert parser.result(text, items) == Plan(title="t", steps=[Step(name="a"), Step(name="b")], tags=["x"])


def test_a_list_parser_is_a_streaming_schema_parser_whose_value_is_the_list() -> None:
    parser = output_parser(list[Step])
    assert isinstance(parser, ListParser) and parser.streams and repr(parser) == "list[Step]"
    assert json.loads(parser.schema)["type"] == "array"
    assert parser.parse('[{"name": "a"}, {"name": "b"}]') == [Step(name="a"), Step(name="b")]
    assert parser.result('Here: [{"name": "a"}]', []) == [Step(name="a")]
    assert output_parser(list[int]).parse("[1, 2]") == [1, 2]  # type: ignore[union-attr]
    bounded = output_parser(Annotated[list[str], Field(max_length=1)])
    assert isinstance(bounded, ListParser) and json.loads(bounded.schema)["maxItems"] == 1
    with pytest.raises(OutputError, match="List should have at most 1 item"):
        bounded.result('["a", "b"]', [])
    with pytest.raises(OutputError, match="not a JSON array"):
        parser.result('{"name": "a"}', [])
    with pytest.raises(OutputError, match="not JSON"):
        parser.result("nothing", [])


def _lists_at_paths(doc: Any, prefix: str = "") -> list[tuple[str, list[Any]]]:
    """The arrays of ``doc`` reached through objects only, by key path, in document order."""
    found: list[tuple[str, list[Any]]] = []
    for key, value in doc.items():
        path = prefix + key
        if isinstance(value, list):
            found.append((path, value))
        elif isinstance(value, dict):
            found += _lists_at_paths(value, path + ".")
    return found


KEYS = st.text(alphabet="abc", min_size=1, max_size=2)  # no dots: a key path joins keys with them
NESTED = st.recursive(
    st.dictionaries(KEYS, VALUES, max_size=3),
    lambda inner: st.dictionaries(KEYS, inner | VALUES, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(doc=NESTED, layout=LAYOUTS, cuts=st.lists(st.integers(0, 400), max_size=12), data=st.data())
def test_the_items_of_nested_list_fields_are_those_of_the_whole_document_in_any_split(
    doc: dict[str, Any], layout: dict[str, Any], cuts: list[int], data: st.DataObject
) -> None:
    lists = _lists_at_paths(doc)
    watched = set(data.draw(st.sets(st.sampled_from([p for p, _ in lists]))) if lists else set())
    got = feed_in_parts(JsonItems(watched | {"x.absent"}), json.dumps(doc, **layout), cuts)
    expected = [FieldItem(p, i, item) for p, v in lists if p in watched for i, item in enumerate(v)]
    assert got == expected


class Section(BaseModel):
    items: list[int]
    note: str = ""


class Report(BaseModel):
    title: str
    section: Section
    parts: list[Section]


def test_nested_list_fields_are_found_by_key_path_not_through_lists() -> None:
    assert list_fields(Report) == {"section.items": int, "parts": Section}
    reader = output_parser(Report).incremental()  # type: ignore[union-attr]
    text = '{"title": "t", "section": {"items": [1, 2]}, "parts": [{"items": [3]}]}'
    assert reader.feed(text) == [
        FieldItem("section.items", 0, 1),
        FieldItem("section.items", 1, 2),
        FieldItem("parts", 0, Section(items=[3])),
    ]


@pytest.mark.parametrize(
    "text, key",
    [
        ('{"steps": [1], "steps": [2]}', "steps"),
        ('{"box": {"things": [1]}, "box": {"things": []}}', "box"),
        ('{"box": {"things": [1], "things": [2]}}', "box.things"),
    ],
)
def test_a_key_on_the_way_to_a_watched_list_that_repeats_is_refused(text: str, key: str) -> None:
    reader = JsonItems({"steps", "box.things"})
    with pytest.raises(OutputError, match=f"holds the key '{key}' twice"):
        reader.feed(text)


def test_other_keys_may_repeat() -> None:
    reader = JsonItems({"box.things"})
    text = '{"a": 1, "a": 2, "box": {"n": 1, "n": 2, "things": [3]}, "c": {"x": [1], "x": [2]}}'
    assert reader.feed(text) == [FieldItem("box.things", 0, 3)]


def _model_strategy(depth: int) -> st.SearchStrategy[Any]:
    """A pydantic model class made with ``create_model``: str, int and list fields, and (``depth``
    allowing) fields of a nested model; some field names have an alias."""
    from pydantic import create_model

    kinds = [st.just(str), st.just(int), st.just(list[int]), st.just(list[str])]
    if depth:
        kinds.append(_model_strategy(depth - 1))
    names = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        fields: dict[str, Any] = {}
        for name in draw(names):
            kind = draw(st.one_of(kinds))
            alias = draw(st.sampled_from([None, f"{name}-key"]))
            fields[name] = (kind, Field(alias=alias)) if alias else (kind, ...)
        return create_model(f"M{draw(st.integers(0, 10**6))}", **fields)

    return build()


def _instance_data(model: Any) -> st.SearchStrategy[dict[str, Any]]:
    """JSON data for ``model``, by its keys (aliases), with room for whitespace and escapes."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if kind is str:
            value: st.SearchStrategy[Any] = TEXT
        elif kind is int:
            value = st.integers(-99, 99)
        elif kind == list[int]:
            value = st.lists(st.integers(-99, 99), max_size=3)
        elif kind == list[str]:
            value = st.lists(TEXT, max_size=3)
        else:
            value = _instance_data(kind)
        parts[info.alias or name] = value
    return st.fixed_dictionaries(parts)


@settings(max_examples=100, deadline=None)
@given(
    model=_model_strategy(2), data=st.data(), layout=LAYOUTS, cuts=st.lists(st.integers(0, 300), max_size=10)
)
def test_the_streamed_items_of_every_streamable_field_path_are_the_validated_values(
    model: Any, data: st.DataObject, layout: dict[str, Any], cuts: list[int]
) -> None:
    """For every list field path ``streamed_field`` accepts, the items a model's parser streams for it
    (the text fed in any split) are the items of that field of the validated model."""
    from ayo_trace.ir.field_streams import streamed_field

    parser = output_parser(model)
    assert isinstance(parser, SchemaParser)
    text = json.dumps(data.draw(_instance_data(model)), **layout)
    items = feed_in_parts(parser.incremental(), text, cuts)
    value = parser.result(text, items)

    def paths(m: Any, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = []
        for name, info in m.model_fields.items():
            if list_item_type(info.annotation) is not None:
                found.append((*prefix, name))
            elif isinstance(info.annotation, type) and hasattr(info.annotation, "model_fields"):
                found += paths(info.annotation, (*prefix, name))
        return found

    for attrs in paths(model, ()):
        key = streamed_field(model, attrs)
        assert key is not None
        expected = value
        for a in attrs:
            expected = getattr(expected, a)
        assert [i.value for i in items if i.field == key] == expected
