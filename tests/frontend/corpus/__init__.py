"""Workflows written the way users write them, each with the inputs it is checked on.

Every module here defines workflows and a ``CASES`` list; ``tests/frontend/test_corpus.py`` runs each
case eagerly, traced and optimized under every pass subset on the scripted engines and checks they
agree, checks the number of graph breaks a case declares, and compares the golden text of some.
Golden texts name lines of these files: edit them with care.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    """A workflow and its arguments. ``breaks``: the number of graph breaks its graph must have
    (None: not checked)."""

    wf: Any
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    breaks: int | None = 0
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.wf.fn.__module__.rsplit('.', 1)[-1]}.{self.label or self.wf.fn.__name__}"


def case(wf: Any, *args: Any, breaks: int | None = 0, label: str = "", **kwargs: Any) -> Case:
    return Case(wf, args, kwargs, breaks, label)


def all_cases() -> list[Case]:
    """The cases of every module of this package, in module order."""
    out: list[Case] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        out.extend(getattr(module, "CASES", []))
    return out
