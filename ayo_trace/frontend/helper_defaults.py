"""The defaults of a helper's parameters, as its call binds them (``helpers.inline_helper``)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from ..errors import TraceError


@dataclass(frozen=True)
class DefaultAtDef:
    """A default of a ``def`` of the workflow read when the ``def`` ran: the hidden name ``key``
    the defining body binds it to."""

    key: str


def of(helper: Any, known: dict[str, Any]) -> dict[str, Any]:
    """The default values of the helper's parameters (evaluated when its ``def`` ran; ``known``:
    those of a ``def`` of the workflow, known at trace time where it stands)."""
    if helper.fn is not None:
        sig = inspect.signature(helper.fn)
        return {n: p.default for n, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}
    out: dict[str, Any] = {}
    params = helper.src.node.params
    for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
        if p.name.value in known:
            out[p.name.value] = known[p.name.value]
        elif p.default is not None:
            try:
                out[p.name.value] = eval(helper.src.code(p.default).strip(), helper.src.fn.__globals__, {})
            except Exception:
                raise TraceError(
                    f"the default of `{p.name.value}` in helper `{helper.src.node.name.value}` must be "
                    "known when the workflow is traced (a constant, or a variable of the workflow holding "
                    "one where the `def` stands) to be traced; pass the value as an argument instead",
                    loc=helper.src.loc(p),
                    construct="helper",
                ) from None
    return out


__all__ = ["DefaultAtDef", "of"]
