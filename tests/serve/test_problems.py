"""Errors as problem details: which status each error answers, and the overload option."""

from __future__ import annotations

import json

import pytest

from ayo_trace.errors import EngineDied, Overloaded, QueryTimeout
from ayo_trace.serve.app import create_app, problem_response
from ayo_trace.serve.problems import problem, refused_by_admission

ADMISSION = Overloaded("1 queries in service and 0 waiting to start (max_active=1, max_queue=0)")
ENGINE_QUEUE = Overloaded("queue full (4 waiting, max_queue=4)", engine="llm")


def test_the_admission_refusal_is_told_from_an_engine_refusal() -> None:
    assert refused_by_admission(ADMISSION)
    assert not refused_by_admission(ENGINE_QUEUE)
    assert not refused_by_admission(QueryTimeout("late", node="n"))


@pytest.mark.parametrize("overload_status", [429, 503])
def test_the_admission_refusal_answers_the_chosen_status(overload_status: int) -> None:
    assert problem(ADMISSION, overload_status)["status"] == overload_status
    r = problem_response(ADMISSION, overload_status=overload_status)
    assert r.status_code == overload_status and r.headers["retry-after"] == "1"


@pytest.mark.parametrize("overload_status", [429, 503])
def test_an_engine_refusal_is_503_whatever_the_option(overload_status: int) -> None:
    r = problem_response(ENGINE_QUEUE, overload_status=overload_status)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    body = json.loads(r.body)
    assert body["title"] == "Overloaded" and body["detail"].startswith("engine 'llm': queue full")


def test_other_errors_carry_no_retry_after() -> None:
    for exc, status in ((EngineDied("gone", engine="llm"), 502), (QueryTimeout("late", node="n"), 504)):
        r = problem_response(exc)
        assert r.status_code == status and "retry-after" not in r.headers


def test_an_overload_status_other_than_429_or_503_is_refused() -> None:
    with pytest.raises(ValueError, match="overload_status"):
        create_app({}, runtime=None, overload_status=500)  # type: ignore[arg-type]
