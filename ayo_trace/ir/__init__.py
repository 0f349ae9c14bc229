"""The IR: a graph of task primitives. Plain data; imports nothing else of the package."""

from .builtin_primitives import BUILTIN_PRIMITIVES, SAMPLING_KEYWORDS, sampling_params
from .code import PyCode, SourceLoc, compile_statement
from .graph import Graph, Node
from .ops import (
    ALL_OPS,
    ENGINE_KIND,
    LOWERED_OPS,
    TRACED_OPS,
    register_primitive,
    unregister_primitive,
)
from .params import Hit, SamplingParams, SearchParams
from .parsers import Parser, json_list, lines
from .spec import Param, PrimitiveSpec, Size, known_op, primitive_spec, primitive_specs
from .template import Hole, Template

__all__ = [
    "ALL_OPS",
    "BUILTIN_PRIMITIVES",
    "ENGINE_KIND",
    "LOWERED_OPS",
    "SAMPLING_KEYWORDS",
    "TRACED_OPS",
    "Graph",
    "Hit",
    "Hole",
    "Node",
    "Param",
    "Parser",
    "PrimitiveSpec",
    "PyCode",
    "SamplingParams",
    "SearchParams",
    "Size",
    "SourceLoc",
    "Template",
    "compile_statement",
    "json_list",
    "known_op",
    "lines",
    "primitive_spec",
    "primitive_specs",
    "register_primitive",
    "sampling_params",
    "unregister_primitive",
]
