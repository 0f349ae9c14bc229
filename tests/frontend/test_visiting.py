"""The tracer's own tree walks agree with libcst's: ``visiting.visit`` calls a visitor's methods on
the same nodes in the same order as ``node.visit``, ``state.parents_of`` finds the parents
libcst's ``ParentNodeProvider`` does and ``visiting.Scopes`` the scopes ``ScopeProvider`` does, on
real files and on the trees the tracer rewrites."""

from __future__ import annotations

import importlib
import inspect
import sysconfig
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ParentNodeProvider, ScopeProvider

from ayo_trace.frontend.source import FunctionSource
from ayo_trace.frontend.state import parents_of, walk
from ayo_trace.frontend.visiting import Scopes, Wrapper, field_order, remembering, visit

ROOT = Path(__file__).resolve().parents[2]
_STDLIB = Path(sysconfig.get_paths()["stdlib"])
FILES = [
    *sorted((ROOT / "ayo_trace" / "frontend").glob("*.py")),
    *sorted((ROOT / "tests" / "frontend").glob("*_shapes.py")),
    *sorted(_STDLIB.glob("*.py"))[::12],  # (every twelfth module of the standard library)
]


def _parsed(path: Path) -> cst.Module | None:
    try:
        return cst.parse_module(path.read_text(encoding="utf-8"))
    except (cst.ParserSyntaxError, UnicodeDecodeError):
        return None


class Recorder(cst.CSTVisitor):
    """Writes down every call: which node, entered or left; skips the children of ``skip`` types."""

    def __init__(self, skip: tuple[type, ...] = ()) -> None:
        self.calls: list[tuple[str, int]] = []
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.calls.append(("visit", id(node)))
        return not isinstance(node, self.skip)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.calls.append(("leave", id(original_node)))


class Typed(cst.CSTVisitor):
    """A visitor written the usual way: ``visit_<Type>`` (False: not below) and ``leave_<Type>``."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.seen.append("." + node.attr.value)
        return False

    def leave_Call(self, original_node: cst.Call) -> None:
        self.seen.append("call")


class Spaced(Typed):
    """A visitor with hooks for comments and whitespace, which ``visit`` must then enter."""

    def visit_Comment(self, node: cst.Comment) -> None:
        self.seen.append(node.value)

    def leave_SimpleWhitespace(self, original_node: cst.SimpleWhitespace) -> None:
        self.seen.append(repr(original_node.value))


def _calls(tree: cst.CSTNode, visitor: Any, ours: bool) -> Any:
    if ours:
        visit(tree, visitor)
    else:
        tree.visit(visitor)
    return visitor.calls if isinstance(visitor, Recorder) else visitor.seen


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_visit_order_is_libcsts(path: Path) -> None:
    """Also while ``remembering`` (twice: what was found is read back the second time), and for
    visitors entering whitespace or not; and ``state.walk`` the same with or without it."""
    tree = _parsed(path)
    if tree is None:
        pytest.skip("libcst cannot parse this file")
    for make in (Recorder, lambda: Recorder((cst.Attribute, cst.Lambda, cst.Subscript)), Typed, Spaced):
        libcsts = _calls(tree, make(), ours=False)
        assert _calls(tree, make(), ours=True) == libcsts
        if make in (Recorder, Typed) and FILES.index(path) % 4 == 0:  # (one entering whitespace,
            # one not: each its own memo; on a quarter of the files)
            with remembering():
                assert _calls(tree, make(), ours=True) == libcsts
                assert _calls(tree, make(), ours=True) == libcsts
    walked = [id(n) for n in walk(tree)]
    with remembering():  # (`state.children` kept)
        assert [id(n) for n in walk(tree)] == walked
        assert [id(n) for n in walk(tree)] == walked
    found = parents_of(tree)
    theirs = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    assert found is not None
    assert len(found) == len(theirs)
    assert all(theirs[node] is parent for node, parent in found.items())


def test_every_node_type_has_a_known_order() -> None:
    kinds = [k for k in vars(cst).values() if inspect.isclass(k) and issubclass(k, cst.CSTNode)]
    concrete = [k for k in kinds if not inspect.isabstract(k) and "__dataclass_fields__" in vars(k)]
    assert len(concrete) > 150
    assert [k.__name__ for k in concrete if field_order(k) is None] == []


def test_attribute_hooks_and_transformers_are_left_to_libcst() -> None:
    tree = cst.parse_module("x = f(a.b, c)\n")

    class Hooked(cst.CSTVisitor):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Call_func(self, node: cst.Call) -> None:
            self.seen.append("func")

        def leave_Call_args(self, node: cst.Call) -> None:
            self.seen.append("args")

    hooked = Hooked()
    visit(tree, hooked)
    assert hooked.seen == ["func", "args"]

    class Renamer(cst.CSTTransformer):
        def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
            return updated_node.with_changes(value=updated_node.value.upper())

    assert visit(tree, Renamer()) is tree  # (a transformer's result is libcst's to return)
    assert tree.visit(Renamer()).code == "X = F(A.B, C)\n"


def test_a_node_in_two_places_is_left_to_libcst() -> None:
    name = cst.Name("x")
    tree = cst.Module([cst.SimpleStatementLine([cst.Expr(name)]), cst.SimpleStatementLine([cst.Expr(name)])])
    assert parents_of(tree) is None


def _shape_functions() -> list[Any]:
    out = []
    for path in sorted((ROOT / "tests" / "frontend").glob("*_shapes.py")):
        module = importlib.import_module(f"tests.frontend.{path.stem}")
        for value in vars(module).values():
            fn = getattr(value, "fn", value)
            if inspect.iscoroutinefunction(fn) and getattr(fn, "__module__", None) == module.__name__:
                out.append(fn)
    return out


def test_parents_of_rewritten_trees_are_libcsts() -> None:
    """The trees ``FunctionSource.parse`` rewrites (handlers copied, lines added, groups unrolled)."""
    checked = fallbacks = 0
    for fn in _shape_functions()[::3]:  # (a third of them: libcst's provider is slow)
        try:
            src = FunctionSource.parse(fn)
        except Exception:  # (a shape the tracer refuses to read: not this test's concern)
            continue
        found = parents_of(src.module)
        if found is None:
            fallbacks += 1
            continue
        theirs = MetadataWrapper(src.module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
        assert len(found) == len(theirs) and all(theirs[n] is p for n, p in found.items()), fn
        checked += 1
    assert checked > 200 // 3, (checked, fallbacks)


@pytest.mark.parametrize("path", FILES[::8], ids=lambda p: str(p.relative_to(p.parents[1])))
def test_scopes_are_libcsts(path: Path) -> None:
    """``visiting.Scopes`` (its visitor methods listed once) resolved through ``visiting.Wrapper``
    (the providers' batched visit without rebuilding the tree) finds what libcst's
    ``ScopeProvider`` does through libcst's wrapper; and so do the expression contexts."""
    tree = _parsed(path)
    if tree is None:
        pytest.skip("libcst cannot parse this file")

    def described(
        provider: Any, wrapper: Any = MetadataWrapper
    ) -> dict[int, tuple[str, list[str], list[str]]]:
        found = wrapper(tree, unsafe_skip_copy=True).resolve(provider)
        return {
            id(node): (
                type(scope).__name__,
                sorted(a.name for a in scope.assignments),
                sorted(a.node.value for a in scope.accesses if isinstance(a.node, cst.Name)),
            )
            for node, scope in found.items()
            if scope is not None
        }

    assert described(Scopes, Wrapper) == described(ScopeProvider)  # (as source.parse resolves them)
    contexts = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ExpressionContextProvider)
    assert dict(Wrapper(tree, unsafe_skip_copy=True).resolve(ExpressionContextProvider)) == dict(contexts)


def test_batched_hooks_run_as_libcsts_do() -> None:
    """``visiting.Wrapper``'s batched visit calls each provider's node hooks on every node, in
    libcst's order, whitespace included when a provider hooks it; a per-attribute hook is left to
    libcst's walk."""
    from libcst.metadata import BatchableMetadataProvider

    tree = cst.parse_module(
        "def f(a, b=1):  # note\n    return a + b\n\n\nclass C(f):\n    x = [f(i) for i in 'ab']\n"
    )

    def seen_by(wrapper: Any, extra: dict[str, Any]) -> list[str]:
        seen: list[str] = []

        class Base(BatchableMetadataProvider[int]):
            def visit_Name(self, node: cst.Name) -> None:
                seen.append("name " + node.value)

            def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
                seen.append("left " + original_node.name.value)

            def visit_Call(self, node: cst.Call) -> bool:
                seen.append("call")
                return False  # (a batched visit enters it all the same)

        Hooks = type("Hooks", (Base,), dict(extra))  # (libcst lists the hooks a class is made with)
        wrapper(tree, unsafe_skip_copy=True).resolve(Hooks)
        return seen

    def visit_Comment(self: Any, node: cst.Comment) -> None:  # (libcst finds a hook by its __name__)
        seen_hook.append(node.value)

    def visit_ClassDef_bases(self: Any, node: cst.ClassDef) -> None:
        seen_hook.append("bases of " + node.name.value)

    for extra in ({}, {"visit_Comment": visit_Comment}, {"visit_ClassDef_bases": visit_ClassDef_bases}):
        seen_hook: list[str] = []
        ours = seen_by(Wrapper, extra), list(seen_hook)
        seen_hook.clear()
        theirs = seen_by(MetadataWrapper, extra), list(seen_hook)
        assert ours == theirs and ours[0], (extra, ours, theirs)
        assert bool(ours[1]) == bool(extra)


def test_the_sets_of_node_types_checked_by_type_hold_types_nothing_derives_from() -> None:
    """The tracer asks ``type(n) in`` a set rather than ``isinstance`` where libcst's abstract
    base class would run Python code for every other node: only sound for types no libcst
    class derives from."""
    from ayo_trace.frontend import source, state

    sets = [
        v
        for m in (state, source)
        for k, v in vars(m).items()
        if k.startswith("_") and isinstance(v, frozenset)
    ]
    kinds = {k for s in sets for k in s if isinstance(k, type)}
    assert len(kinds) > 20
    assert all(issubclass(k, cst.CSTNode) and not k.__subclasses__() for k in kinds), kinds
