"""The data-processing shapes of ``data_code_shapes.py``: eager ≡ unoptimized ≡ optimized on inputs
with failing calls, or refused at trace time with a ``TraceError`` naming the line."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.errors import TraceError
from tests.util import run_in_new_loop, three_runs_agree

from . import data_code_shapes as shapes

QUESTIONS = ["a plain question", "FAIL x"]
DOCS = [[], ["alpha"], ["alpha", "beta FAIL", "gamma"], ["one", "Two words", "three"]]

# shapes that must trace with no graph break (the others may run a statement as written)
WHOLE = {
    "fstring_then_sort",
    "format_then_extend",
    "chat_history_in_prompt",
    "dict_holds_list",
    "dataclass_holds_list",
    "records_by_id",
    "pure_filter_stays_a_map",
    "capture_read_after_match",
    "numbered_format_fields",
}


@pytest.mark.parametrize("wf", shapes.TRACED, ids=lambda w: w.fn.__name__)
def test_traced_agrees_with_eager(wf: Any) -> None:
    graph = wf.graph("q", ["d"])
    if wf.fn.__name__ in WHOLE:
        assert not [n for n in graph.walk() if n.op == "break"], graph
    run_in_new_loop(three_runs_agree, wf, QUESTIONS, DOCS)


@pytest.mark.parametrize("wf", shapes.REFUSED, ids=lambda w: w.fn.__name__)
def test_refused_at_trace_time_naming_the_line(wf: Any) -> None:
    with pytest.raises(TraceError) as info:
        wf.graph("q", ["d"])
    assert "data_code_shapes.py:" in str(info.value)


def test_a_string_of_a_changed_object_is_formatted_where_it_is_built() -> None:
    text = str(shapes.fstring_then_sort.graph("q", ["d"]))
    assert "field = format(items, '')" in text, text
    plain = str(shapes.handed_to_a_pure_helper.graph("q", ["d"]))
    assert "format(" not in plain, plain  # nothing changes `q` or `docs`: the template keeps its holes
