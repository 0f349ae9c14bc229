"""The user's function as libcst sees it: its tree, positions, scopes and the names a piece reads.

Parsed once per function and kept on the ``Workflow``; a re-trace for a new static signature reuses it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    ClassScope,
    ComprehensionScope,
    FunctionScope,
    ParentNodeProvider,
    PositionProvider,
    Scope,
)

from ..errors import TraceError
from ..ir.code import SourceLoc, dedented
from . import normalize
from .state import parents_of, pattern_captures, walk
from .visiting import Scopes, Wrapper, visit


@dataclass
class FunctionSource:
    """A parsed ``async def``: the tree, where it sits in its file, and scope metadata."""

    fn: Callable[..., Any]
    filename: str
    first_line: int
    module: cst.Module
    node: cst.FunctionDef
    scopes: Any
    positions: Any
    parents: Any
    fn_scope: Scope
    original: Callable[[int], int] = lambda line: line  # the source's line of a parsed code's line
    _free_cache: dict[tuple[int, int], tuple[list[str], list[str]]] = field(default_factory=dict)
    _assigned_cache: dict[int, list[str]] = field(default_factory=dict)
    closures: Any = None  # the functions the body defines (``closures.py``), found on first use
    aliases: Any = None  # names that may share an object (``aliases.py``), found on first use
    strict_aliases: Any = None  # the same, a display not joined with what it holds (``aliases.py``)
    changed_globals: Any = None  # module containers the body changes in place (``closures.py``)
    changed_ids: Any = None  # the ids of the objects the body may change in place (``closures.py``)
    loop_closures_checked: bool = False  # (``loop_closures.check_all`` ran)
    made: dict[int, cst.CSTNode] = field(default_factory=dict)  # nodes standing in (``stand_in``)
    stands_for: dict[int, cst.CSTNode] = field(default_factory=dict)  # the tree's node each stands for
    same_reads: dict[int, cst.CSTNode] = field(default_factory=dict)  # (``reads_as``)
    called: Any = None  # the names the code calls (``text._called_names``), found on first use
    changed_anywhere: Any = None  # names whose object the body may change in place (``aliases.py``)
    kept: Any = None  # objects put into others by a change of those (``kept_in.py``), found on first use
    immutable: Any = None  # names only ever holding strings or numbers (``immutables.immutable_names``)
    captures: tuple[set[str], set[str]] | None = None  # (``_unseen_bindings``, found on first use)
    defs: dict[str, cst.FunctionDef | cst.ClassDef] | None = None  # (``defs_by_name``)
    local_qualname: str = ""  # a local ``async def`` of ``fn`` read from ``fn``'s tree: its qualname

    @property
    def qualname(self) -> str:
        """The qualified name of the function this is the source of, as Python names it."""
        return self.local_qualname or getattr(self.fn, "__qualname__", "") or ""

    @classmethod
    def parse(cls, fn: Callable[..., Any]) -> FunctionSource:
        # a decorator's wrapper (``functools.wraps``) is read as itself, not as the function it wraps
        # (which ``inspect`` follows ``__wrapped__`` to): its code is what runs
        code = getattr(fn, "__code__", None) if hasattr(fn, "__wrapped__") else None
        try:
            lines, first = inspect.getsourcelines(code if code is not None else fn)
            filename = inspect.getsourcefile(fn if code is None else code) or inspect.getfile(fn)
        except (OSError, TypeError) as e:
            raise TraceError(
                f"cannot read the source of {getattr(fn, '__qualname__', repr(fn))}: @ayo.workflow needs the function's source "
                "file (functions typed into a REPL or built with exec cannot be traced); run it with "
                "wf.eager(...) instead",
                loc=_def_loc(fn),
                construct="source",
            ) from e
        text = dedented("".join(lines))
        target = code if code is not None else fn
        names = {**getattr(target, "__globals__", getattr(fn, "__globals__", {}))}
        if (cells := getattr(fn, "__closure__", None)) is not None:  # (`suppress` may be a closure's)
            for name, cell in zip(fn.__code__.co_freevars, cells, strict=False):
                with contextlib.suppress(ValueError):
                    names[name] = cell.cell_contents
        module, made, shrunk = normalize.rewrite(cst.parse_module(text), names)
        wrapper = Wrapper(module, unsafe_skip_copy=True)
        scopes = wrapper.resolve(Scopes)
        positions = wrapper.resolve(PositionProvider)
        found = parents_of(module)
        parents = found if found is not None else wrapper.resolve(ParentNodeProvider)
        copied: dict[int, int] = {}
        for copy, of in made.copies:  # (a handler written again: its lines stand for the handler's)
            at, was, end = positions[copy].start.line, positions[of].start.line, positions[of].end.line
            for i in range(positions[copy].end.line - at + 1):
                copied[at + i] = min(was + i, end)
        original = normalize.lines(
            [positions[h].start.line for h in made.added],
            [positions[h].start.line for h in made.ahead],
            {positions[h].start.line: n for h, n in shrunk},
            copied,
        )
        node = next(s for s in module.body if isinstance(s, cst.FunctionDef))
        if node.asynchronous is None:
            raise TraceError(
                f"@ayo.workflow needs an `async def`, and {fn.__qualname__} is a plain `def`; "
                "make it `async def` and `await` the primitives",
                loc=SourceLoc(filename, first),
                construct="def",
            )
        fn_scope = scopes[node.body]
        assert fn_scope is not None
        return cls(fn, filename, first, module, node, scopes, positions, parents, fn_scope, original)

    def loc(self, node: cst.CSTNode) -> SourceLoc:
        return SourceLoc(self.filename, self.file_line(self.positions[node].start.line))

    def stand_in(self, new: cst.CSTNode, old: cst.CSTNode, parent: cst.CSTNode | None = None) -> None:
        """Take ``new``, a node the compiler made that means part of what ``old`` of the tree means
        (a ``try`` cut in two, ``try_except``), as standing where ``old`` stands: its position, and
        its parent (``parent``, else ``old``'s). Its children are nodes of the tree or made too."""
        if not isinstance(self.positions, _Overlay):
            self.positions, self.parents = _Overlay(self.positions), _Overlay(self.parents)
        self.positions.extra[new] = self.positions[old]
        self.parents.extra[new] = parent if parent is not None else self.parents.get(old)
        self.made[id(new)] = new  # (kept, so that no other node takes its id in the caches)
        self.stands_for[id(new)] = self.in_tree(old)

    def reads_as(self, new: cst.CSTNode, old: cst.CSTNode, parent: cst.CSTNode | None = None) -> None:
        """Take ``new``, standing in for ``old`` (``stand_in``) and reading the same names (a
        comprehension made again around ``old``'s ``for`` clauses, its element spelled another
        way), as reading what ``old`` reads: its names are ``old``'s (``free_names``)."""
        self.stand_in(new, old, parent)
        self.same_reads[id(new)] = old

    def in_tree(self, node: cst.CSTNode) -> cst.CSTNode:
        """The node of the tree ``node`` stands for (``stand_in``), or ``node`` itself."""
        return self.stands_for.get(id(node), node)

    def tree_parts(self, node: cst.CSTNode, keep: type | tuple[type, ...] = ()) -> list[cst.CSTNode]:
        """The nodes of the tree ``node`` is made of: itself when it is one, else (a node the compiler
        made) those under it, leaving out the ones of a type in ``keep``."""
        if id(node) not in self.made and node in self.parents:
            return [] if isinstance(node, keep) else [node]
        return [p for c in node.children for p in self.tree_parts(c, keep)]

    def file_line(self, line: int) -> int:
        """The file's line of ``line`` of the parsed code (``normalize`` may have added lines)."""
        return self.original(line) + self.first_line - 1

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def expr_code(self, e: cst.BaseExpression) -> str:
        """``e``'s code as an expression that stands on its own on the right of ``=`` (or in ``eval``):
        a generator expression written as a call's only argument (``xs.extend(h.text for h in hits)``)
        or an assignment expression written as an argument (``f(n := len(xs))``) has no parentheses of
        its own, and an expression that spans lines inside the brackets it was written in (strings
        concatenated over several lines in a call's argument list) continues its lines only inside
        parentheses."""
        code = self.code(e).strip()
        bare = isinstance(e, cst.GeneratorExp | cst.NamedExpr) and not e.lpar
        return f"({code})" if bare or "\n" in code else code

    def home(self, scope: Scope | None, name: str) -> Scope | None:
        """The scope that binds ``name`` as seen from ``scope`` (Python's lexical rule)."""
        while scope is not None:
            walrus = isinstance(scope, ComprehensionScope) and name in self._unseen_bindings()[1]
            if not isinstance(scope, ClassScope) and scope.assignments[name] and not walrus:
                return scope
            if scope is self.fn_scope and any(name in names for names in self._unseen_bindings()):
                return scope  # (libcst's scopes see neither a `match` capture nor such a walrus bind it)
            if scope is scope.parent:
                break
            scope = scope.parent
        return None

    def _unseen_bindings(self) -> tuple[set[str], set[str]]:
        """The names the function's own ``case`` patterns bind, and those a walrus in one of its
        comprehensions binds (``[y for d in docs if (y := f(d))]`` binds the function's ``y``),
        not those of functions it defines: libcst's scopes see neither."""
        if self.captures is None:
            found: set[str] = set()
            walrus: set[str] = set()

            class V(cst.CSTVisitor):
                def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
                    return False

                def visit_ClassDef(self, n: cst.ClassDef) -> bool:
                    return False

                def visit_Lambda(self, n: cst.Lambda) -> bool:
                    return False

                def visit_MatchCase(self, n: cst.MatchCase) -> None:
                    found.update(pattern_captures(n.pattern))

                def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
                    if isinstance(n.target, cst.Name) and isinstance(
                        scopes.get(n.target), ComprehensionScope
                    ):
                        walrus.add(n.target.value)

            scopes = self.scopes
            visit(self.node.body, V())
            self.captures = (found, walrus)
        return self.captures

    def target(self, e: cst.CSTNode, hint: str, taken: tuple[str, ...] = ()) -> str:
        """A name to bind the value of ``e`` to in a node's code (``hint``, or ``hint_``): never one
        ``e`` reads (``q = ask(q)`` with ``q`` a closure's or a global name would make ``q`` the
        code's local, unbound when read) nor one of ``taken``."""
        try:
            local, other = self.free_names(e)
        except KeyError:  # (a node the compiler made: only its own names)
            local, other = [], []
        return hint if hint not in {*local, *other, *taken} else hint + "_"

    def defs_by_name(self) -> dict[str, cst.FunctionDef | cst.ClassDef]:
        """The functions and classes the function defines, at any depth, by name (found once)."""
        if self.defs is None:
            kinds = cst.FunctionDef | cst.ClassDef
            self.defs = {d.name.value: d for d in walk(self.node.body) if isinstance(d, kinds)}
        return self.defs

    def free_names(self, node: cst.CSTNode, root: cst.CSTNode | None = None) -> tuple[list[str], list[str]]:
        """Names ``node`` reads from outside ``root`` (default: ``node`` itself): (locals, everything else).

        Locals are names bound in the workflow's own scope (parameters included), and names bound by a
        comprehension or lambda of the workflow that encloses ``root`` (the loop variable of a
        comprehension, when ``node`` is a piece of its element: a map body binds it). Everything else
        is a global, a closure cell or a builtin. Names bound by a comprehension, lambda or function
        inside ``root`` are not free.
        """
        if id(node) in self.same_reads and (root is None or root is node):
            return self.free_names(self.same_reads[id(node)])
        root = node if root is None else root
        key = (id(node), id(root))
        if key in self._free_cache:
            return self._free_cache[key]
        made_block = isinstance(node, cst.IndentedBlock) and node not in self.parents
        if node is root and (made_block or id(node) in self.made):
            # a node the compiler made from nodes of the function (the rest of a body, a cut `try`)
            parts = [self.free_names(s) for s in node.children]
            merged = ([n for p in parts for n in p[0]], [n for p in parts for n in p[1]])
            return list(dict.fromkeys(merged[0])), list(dict.fromkeys(merged[1]))
        local: dict[str, None] = {}
        other: dict[str, None] = {}
        for name in _names_in(node):
            scope = self.scopes.get(name)
            if scope is None:
                continue
            if not _is_load(name, self.parents):
                continue
            home = self.home(scope, name.value)
            if home is self.fn_scope:
                local[name.value] = None
            elif home is None or not _inside(home, self.fn_scope):
                other[name.value] = None
            elif not self.within(getattr(home, "node", None), root):
                local[name.value] = None  # bound by an enclosing comprehension or lambda
        out = (list(local), list(other))
        if self._kept(node) and self._kept(root):
            self._free_cache[key] = out
        return out

    def _kept(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` lives as long as this source (a node of the tree, or one the compiler
        made and keeps: ``stand_in``), so that no other node can take its ``id`` in the caches
        keyed by it; a node made for a moment (a folded constant, a block holding statements) and
        gone may leave its ``id`` to another, which must not be given its cached names."""
        return node in self.parents or id(node) in self.made

    def only_binding(self, e: cst.BaseExpression) -> tuple[cst.Name, cst.BaseExpression] | None:
        """``(target, value)`` of ``name = value`` when that is the one binding of local name ``e`` in
        the function (nested functions' own names are not it)."""
        found = self.bindings(e)
        return found[0] if found is not None and len(found) == 1 else None

    def bindings(self, e: cst.BaseExpression) -> list[tuple[cst.Name, cst.BaseExpression]] | None:
        """``(target, value)`` of each ``name = value`` binding local name ``e`` in the function
        (``if docs: kb = "docs"`` / ``else: kb = "empty"``), when those are all its bindings (none
        a loop's target, an ``+=``, a parameter, ...; nested functions' own names are not it)."""
        if not isinstance(e, cst.Name) or e not in self.scopes:
            return None
        scope = self.scopes[e]
        if scope is None or scope is not self.fn_scope:
            return None
        out: list[tuple[cst.Name, cst.BaseExpression]] = []
        for assignment in scope.assignments[e.value]:
            target = getattr(assignment, "node", None)  # (an Assignment; not a builtin's)
            stmt = self.parents.get(self.parents.get(target))
            if not (
                isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and stmt.targets[0].target is target
            ):
                return None
            assert isinstance(target, cst.Name)
            out.append((target, stmt.value))
        return out or None

    def within(self, node: cst.CSTNode | None, root: cst.CSTNode) -> bool:
        """Whether ``node`` is ``root`` or inside it."""
        old = self.same_reads.get(id(root))  # (a comprehension made again: its clauses are the tree's)
        while node is not None:
            if node is root or node is old:
                return True
            node = self.parents.get(node)
        return False

    def assigned_names(self, node: cst.CSTNode) -> list[str]:
        """Names of the workflow's scope that ``node`` binds (targets, for-loop variables, ...)."""
        cached = self._assigned_cache.get(id(node))
        if cached is not None and self._kept(node):  # (a node made for a moment is not cached)
            return list(cached)
        out: dict[str, None] = {}
        for name in _names_in(node):
            parent = self.parents.get(name)
            aug = isinstance(parent, cst.AugAssign) and parent.target is name
            if _is_load(name, self.parents) and not aug:
                continue
            if isinstance(parent, cst.AnnAssign) and parent.value is None:
                continue  # `ctx: str` binds nothing
            scope = self.scopes.get(name)
            if scope is self.fn_scope or (
                isinstance(scope, ComprehensionScope) and self.home(scope, name.value) is self.fn_scope
            ):  # (a walrus in a comprehension binds the function's name)
                out[name.value] = None
        for alias, stmt in _imports_in(node, self.parents):
            if self.scopes.get(stmt) is self.fn_scope:
                out[_import_name(alias)] = None
        if self._kept(node):
            self._assigned_cache[id(node)] = list(out)
        return list(out)


class _Overlay(Mapping[Any, Any]):
    """A mapping of libcst's metadata with entries for the nodes the compiler made (``stand_in``)."""

    def __init__(self, base: Mapping[Any, Any]) -> None:
        self.base = base
        self.extra: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        return self.extra[key] if key in self.extra else self.base[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self.extra.get(key, self.base.get(key, default))

    def __contains__(self, key: object) -> bool:
        return key in self.extra or key in self.base

    def __iter__(self) -> Iterator[Any]:
        yield from self.base
        yield from self.extra

    def __len__(self) -> int:
        return len(self.base) + len(self.extra)


def _imports_in(node: cst.CSTNode, parents: Any) -> list[tuple[cst.ImportAlias, cst.CSTNode]]:
    """The aliases of the imports in ``node``, each with its import statement."""
    visitor = _Imports()
    visit(node, visitor)
    return [(n, parents.get(n)) for n in visitor.found]


class _Imports(cst.CSTVisitor):
    # (visitors at module level: a class made per call costs more than the walk of a statement)
    def __init__(self) -> None:
        self.found: list[cst.ImportAlias] = []

    def visit_ImportAlias(self, n: cst.ImportAlias) -> None:
        self.found.append(n)


def _import_name(alias: cst.ImportAlias) -> str:
    """The name an import alias binds: ``as`` name, else the first part of the dotted name."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    e: cst.BaseExpression = alias.name
    while isinstance(e, cst.Attribute):
        e = e.value
    assert isinstance(e, cst.Name)
    return e.value


def _def_loc(fn: Callable[..., Any]) -> SourceLoc | None:
    code = getattr(fn, "__code__", None)
    return SourceLoc(code.co_filename, code.co_firstlineno) if code is not None else None


def _inside(scope: Scope, outer: Scope) -> bool:
    while True:
        if scope is outer:
            return True
        if scope is scope.parent:
            return False
        scope = scope.parent


def _names_in(node: cst.CSTNode) -> Iterable[cst.Name]:
    visitor = _Names()
    visit(node, visitor)
    return visitor.found


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Name] = []

    def visit_Name(self, n: cst.Name) -> None:
        self.found.append(n)

    def visit_Attribute(self, n: cst.Attribute) -> bool:
        visit(n.value, self)  # the attribute name itself is not a variable
        return False

    def visit_Arg(self, n: cst.Arg) -> bool:
        visit(n.value, self)  # keyword names are not variables
        return False


def _is_load(name: cst.Name, parents: Any) -> bool:
    parent = parents.get(name)
    kind = type(parent)  # (concrete node types: `type(p) is` is `isinstance`, without libcst's ABC check)
    if kind in _TARGETED and parent.target is name:
        return kind is cst.AugAssign  # x += 1 reads x too
    if kind in _DISPLAYS:
        # an element of a target tuple (`a, *rest = ...` too): climb to see whether it is a target
        p = parent
        while type(p) in _TARGET_PARTS:
            child, p = p, parents.get(p)
            if type(p) in _BINDING_TARGETS and p.target is child:
                return False
        return True
    if kind is cst.Element:
        return _is_load_element(name, parents)
    if kind is cst.Param:
        return parent.default is name  # (a default is read where the function is made)
    if kind in _NAMING:
        return False
    if kind is cst.NamedExpr and parent.target is name:
        return False
    if kind in _CAPTURES and parent.name is name:
        return False  # a `match` capture (`case [w, *rest]:`) binds it
    if kind is cst.MatchMapping and parent.rest is name:
        return False  # `case {"k": v, **rest}:`
    if kind is cst.MatchKeywordElement and parent.key is name:
        return False  # `case Call(name="calc"):` matches an attribute's name, reads no variable
    return kind not in _DECLARING


_TARGETED = frozenset((cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor))
_DISPLAYS = frozenset((cst.Tuple, cst.List, cst.StarredElement))
_TARGET_PARTS = frozenset((cst.Tuple, cst.List, cst.Element, cst.StarredElement))
_BINDING_TARGETS = frozenset((cst.AssignTarget, cst.For, cst.CompFor))
_NAMING = frozenset((cst.AsName, cst.FunctionDef, cst.ClassDef))
_CAPTURES = frozenset((cst.MatchAs, cst.MatchStar))
_DECLARING = frozenset((cst.ImportAlias, cst.Global, cst.Nonlocal))


def _is_load_element(name: cst.Name, parents: Any) -> bool:
    p: Any = parents.get(name)
    child: Any = name
    while isinstance(p, cst.Tuple | cst.List | cst.Element | cst.StarredElement):
        child, p = p, parents.get(p)
    return not (isinstance(p, cst.AssignTarget | cst.For | cst.CompFor) and p.target is child)


def function_scope_of(scopes: Any, node: cst.CSTNode) -> FunctionScope | None:
    s = scopes.get(node)
    return s if isinstance(s, FunctionScope) else None
