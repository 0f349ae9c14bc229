"""The IR: a graph of task primitives. Plain data; imports nothing else of the package."""

from .code import PyCode, SourceLoc, compile_statement
from .graph import Graph, Node
from .ops import ALL_OPS, ENGINE_KIND, LOWERED_OPS, TRACED_OPS
from .params import Hit, SamplingParams, SearchParams
from .parsers import Parser, json_list, lines
from .template import Hole, Template

__all__ = [
    "ALL_OPS",
    "ENGINE_KIND",
    "LOWERED_OPS",
    "TRACED_OPS",
    "Graph",
    "Hit",
    "Hole",
    "Node",
    "Parser",
    "PyCode",
    "SamplingParams",
    "SearchParams",
    "SourceLoc",
    "Template",
    "compile_statement",
    "json_list",
    "lines",
]
