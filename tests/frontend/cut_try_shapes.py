"""``try`` bodies that bind a name before their last statement which is read after the statement or
by a handler (the retry-and-parse idiom), for ``test_cut_try.py``. The scripted LLM answers JSON
for a prompt holding ``json``, ``{``-less text otherwise, and fails a prompt holding ``FAIL``; the
question picks the prompt of each attempt (``|``-separated), so one input parses at the first
attempt, another at the second, another never, another fails the call itself."""

from __future__ import annotations

import json
import re

import ayo_trace as ayo


def prompt(question: str, attempt: int) -> str:
    parts = question.split("|")
    return parts[min(attempt, len(parts) - 1)]


class BadAnswer(ValueError):
    pass


def check(data: dict) -> dict:
    if "n" not in data:
        raise BadAnswer(f"no n in {data}")
    return data


@ayo.workflow
async def parse_then_break(question: str) -> object:
    data = None
    raw = ""
    for attempt in range(3):
        try:
            raw = await ayo.llm(prompt(question, attempt), max_tokens=12)
            data = json.loads(raw)
            break
        except ValueError:
            continue
    return raw, data


@ayo.workflow
async def parse_in_else_break(question: str) -> object:
    raw = ""
    for attempt in range(3):
        try:
            raw = await ayo.llm(prompt(question, attempt), max_tokens=12)
            data = json.loads(raw)
        except ValueError:
            continue
        else:
            break
    else:
        data = None
    return raw, data


@ayo.workflow
async def handler_reads_raw(question: str) -> object:
    errors = []
    n, raw = None, ""
    for attempt in range(3):
        try:
            raw = await ayo.llm(prompt(question, attempt), max_tokens=12)
            n = check(json.loads(raw))["n"]
            break
        except ValueError as e:
            errors.append(f"{type(e).__name__}: {raw if attempt else '-'}")
        except ayo.EngineError:
            errors.append("engine")
    return n, errors


@ayo.workflow
async def three_steps(question: str) -> object:
    steps = []
    for attempt in range(2):
        try:
            raw = await ayo.llm(prompt(question, attempt), max_tokens=12)
            steps.append(len(raw))
            cleaned = raw.strip().lower()
            data = json.loads(cleaned)
            n = check(data)["n"]
            break
        except (ValueError, KeyError) as e:
            steps.append(type(e).__name__)
    else:
        raw, cleaned, n = "none", "none", -1
    return raw, cleaned, n, steps


@ayo.workflow
async def no_loop(question: str) -> object:
    raw = "unset"
    try:
        raw = await ayo.llm(prompt(question, 0), max_tokens=12)
        value = json.loads(raw)["n"]
    except (ValueError, KeyError):
        value = None
    except ayo.EngineError:
        value = "engine"
    return raw, value


@ayo.workflow
async def regex_then_second_call(question: str) -> object:
    found = "none"
    try:
        first = await ayo.llm(prompt(question, 0), max_tokens=12)
        found = re.search(r"\d", first).group(0)  # AttributeError when no digit
        second = await ayo.llm(f"{prompt(question, 1)} {found}", max_tokens=4)
    except AttributeError:
        second = "no digit"
    except ayo.EngineError as e:
        second = f"engine {found}"
        del e
    return found, second


@ayo.workflow
async def two_calls_then_parse_finally(question: str) -> object:
    log = []
    a = b = ""
    try:
        a = await ayo.llm(prompt(question, 0), max_tokens=12)
        b = await ayo.llm(prompt(question, 1), max_tokens=12)
        merged = {**json.loads(a), **json.loads(b)}
    except ValueError:
        merged = {}
    except ayo.EngineError:
        merged = {"engine": True}
    finally:
        log.append("done")
    return a, b, merged, log


@ayo.workflow
async def while_parse(question: str) -> object:
    tries = 0
    raw = ""
    while tries < 3:
        try:
            raw = await ayo.llm(prompt(question, tries), max_tokens=12)
            parsed = check(json.loads(raw))
            break
        except ValueError:
            tries += 1
        except ayo.EngineError:
            tries += 2
    else:
        parsed = {}
    return tries, raw, parsed


@ayo.workflow
async def reraise_last(question: str) -> object:
    raw, value = "", None
    for attempt in range(2):
        try:
            raw = await ayo.llm(prompt(question, attempt), max_tokens=12)
            value = json.loads(raw)
            break
        except ValueError:
            if attempt == 1:
                raise BadAnswer(raw) from None
    return raw, value


SHAPES = [
    parse_then_break,
    parse_in_else_break,
    handler_reads_raw,
    three_steps,
    no_loop,
    regex_then_second_call,
    two_calls_then_parse_finally,
    while_parse,
    reraise_last,
]
