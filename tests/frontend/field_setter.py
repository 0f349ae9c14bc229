"""A function of another module that sets a field of the object it is given, for
``made_field_shapes.py``: the tracer does not read this module, so an object handed to it has
no fields known at trace time."""

from __future__ import annotations

from typing import Any


def retarget(obj: Any) -> None:
    obj.collection = "kb0"
