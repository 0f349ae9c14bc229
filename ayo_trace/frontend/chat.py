"""Chat messages as an LLM prompt: ``ayo.llm(messages=[...])`` and ``ayo.system/user/assistant``.

Messages are rendered with the model's own chat template (asked of the runtime's engine through the
host), the same way when eager and when traced: the template is applied once to the roles with a
sentinel in place of every content, and its output is cut at the sentinels into the template's own
text (``Markup``: engines parse special tokens in it) and one slot per message. Each slot then takes
the message's content as plain text (never parsed for special tokens). So when traced, the rendered
template and every constant content (the system prompt, few-shot turns) are the prompt template's
constant text and only dynamic contents are holes: prefix splitting and cross-query prefix sharing
see a chat prompt exactly as a plain one.

A template that trims contents (``message['content'] | trim``, as Gemma's does for user and model
turns) is detected by rendering padded sentinels; contents are then stripped the same way. A
leading BOS token the template prints is dropped (engines add BOS themselves). A template that
changes contents in any other way (upper-casing, escaping) cannot be rendered like this and is
refused with a ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError, InvalidParams
from ..ir.params import check_text
from ..ir.prompt import ChatTemplate, Markup, Prompt

ROLES = ("system", "user", "assistant")
_PAD = " "


def system(content: str) -> dict[str, str]:
    """A system message: ``{"role": "system", "content": content}``."""
    return {"role": "system", "content": content}


def user(content: str) -> dict[str, str]:
    """A user message: ``{"role": "user", "content": content}``."""
    return {"role": "user", "content": content}


def assistant(content: str) -> dict[str, str]:
    """An assistant message (a few-shot answer): ``{"role": "assistant", "content": content}``."""
    return {"role": "assistant", "content": content}


HELPERS = {system: "system", user: "user", assistant: "assistant"}


def _sentinel(i: int) -> str:
    return f"\x00ayo-message-{i}\x00"


def skeleton(tpl: ChatTemplate, roles: Sequence[str]) -> tuple[list[str | int], list[bool]]:
    """The template's output for messages of ``roles``: its own text, and the index of the message
    whose content goes in each slot; and, per message, whether the template strips its content."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ConfigError(f"the chat template{_origin(tpl)} refused the messages: {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    messages = [{"role": r, "content": _PAD + _sentinel(i) + _PAD} for i, r in enumerate(roles)]
    try:
        out = env.from_string(tpl.source).render(
            messages=messages,
            add_generation_prompt=True,
            bos_token=tpl.bos_token,
            eos_token=tpl.eos_token,
        )
    except jinja2.TemplateError as exc:
        raise ConfigError(f"the chat template{_origin(tpl)} failed: {exc}") from exc
    if tpl.bos_token and out.startswith(tpl.bos_token):
        out = out[len(tpl.bos_token) :]
    found: list[tuple[int, int, int]] = []  # (start, end, message)
    trims = [False] * len(roles)
    for i in range(len(roles)):
        padded, bare = _PAD + _sentinel(i) + _PAD, _sentinel(i)
        at = out.find(padded)
        if at >= 0 and out.count(padded) == 1:
            found.append((at, at + len(padded), i))
        elif out.count(bare) == 1 and out.count(padded) == 0:
            at = out.find(bare)
            found.append((at, at + len(bare), i))
            trims[i] = True
        else:
            raise ConfigError(
                f"the chat template{_origin(tpl)} does not print the content of message {i} "
                f"({roles[i]!r}) exactly once and unchanged, so ayo cannot render it"
            )
    parts: list[str | int] = []
    pos = 0
    for start, end, i in sorted(found):
        parts += [out[pos:start], i]
        pos = end
    parts.append(out[pos:])
    return [p for p in parts if p != ""], trims


def _origin(tpl: ChatTemplate) -> str:
    return f" ({tpl.origin})" if tpl.origin else ""


def check_messages(messages: Any) -> list[tuple[str, Any]]:
    """(role, content) of each message; ``InvalidParams`` for anything but a non-empty sequence of
    mappings with a known ``role`` and a ``content``."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence) or not messages:
        raise InvalidParams(
            "messages= takes a non-empty list of {'role': ..., 'content': ...}", param="messages"
        )
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or set(m) != {"role", "content"}:
            raise InvalidParams(
                f"message {i} must be a dict with exactly the keys 'role' and 'content' "
                f"(or ayo.system/user/assistant(...)), got {m!r}",
                param="messages",
            )
        if m["role"] not in ROLES:
            raise InvalidParams(
                f"message {i}: role must be one of {ROLES}, got {m['role']!r}", param="messages"
            )
        out.append((m["role"], m["content"]))
    return out


def render_messages(tpl: ChatTemplate, messages: Any) -> str:
    """The prompt for ``messages`` (eager): a ``Prompt`` whose markup is the template's text."""
    pairs = check_messages(messages)
    contents = [str(check_text(c, f"content of message {i}")) for i, (_, c) in enumerate(pairs)]
    parts, trims = skeleton(tpl, [r for r, _ in pairs])
    return Prompt.join(
        Markup(p) if isinstance(p, str) else contents[p].strip() if trims[p] else contents[p] for p in parts
    )
