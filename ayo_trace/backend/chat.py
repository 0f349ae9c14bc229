"""Which chat template an LLM engine pool renders ``messages=`` with, or why there is none."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, NoChatTemplate
from ..ir.prompt import ChatTemplate


def chat_template_of(pool: Any) -> ChatTemplate:
    """The chat template of ``pool``'s engine (None: the runtime is not running). ``ConfigError``
    when the engine has none: its model carries none and it was given none (``chat_template=``);
    engines behind Ray proxies do not report theirs."""
    if pool is None:
        raise ConfigError(
            "messages= needs the engine's chat template, read from its model: start the runtime first "
            "(`async with runtime:`)"
        )
    tpl = getattr(pool.engines[0], "chat_template", lambda: None)()
    if not isinstance(tpl, ChatTemplate):
        raise NoChatTemplate(
            f"LLM engine {pool.name!r} has no chat template: its model has none. A base model (such as the "
            "shipped gemma3 270m) is prompted completion-style, with a prompt string; for chat, use an "
            "instruct model (model_path= any GGUF whose metadata has tokenizer.chat_template) or give the "
            "engine a template (chat_template=, a Jinja string)"
        )
    return tpl
