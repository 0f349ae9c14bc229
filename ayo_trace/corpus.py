"""A real corpus that ships with every Python install: the standard library's docstrings.

``stdlib_passages()`` reads the standard library's source files (``sysconfig.get_paths()["stdlib"]``)
with ``ast``, never importing them, and turns the docstrings of public modules, classes, functions
and methods into passages of about 60-150 words, each titled with the dotted name it documents
(``"json.dumps"``, ``"pathlib.Path.glob"``). Nobody on this project wrote them, which keeps the
demo honest.

What is left out: private names and modules (a leading underscore), the test suites, IDLE, tkinter,
lib2to3, ensurepip, turtledemo, installed packages (``site-packages``), modules written in C (they
have no source here) and doctest examples (``>>>`` paragraphs). A module that lists ``__all__`` as a
literal contributes only the names it lists.

The order is deterministic: modules by name, then each module's docstrings in source order.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import math
import os
import re
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MIN_WORDS = 60
MAX_WORDS = 150
SHORTEST = 8  # a docstring with fewer words says too little to retrieve ("Return self.")

# Packages and modules that are not the library's documented API.
SKIPPED = frozenset(
    {
        "antigravity",
        "ensurepip",
        "idlelib",
        "lib2to3",
        "pydoc_data",
        "test",
        "tests",
        "this",
        "tkinter",
        "turtle",
        "turtledemo",
    }
)

# The demo's default corpus: about 2,000 passages from well-known modules, which the default embedder
# ingests in about a minute on 2 cores. ``stdlib_passages()`` with no ``modules`` is the whole
# library (about 3,500 passages).
DEMO_MODULES: tuple[str, ...] = (
    "argparse",
    "asyncio",
    "base64",
    "bisect",
    "calendar",
    "codecs",
    "collections",
    "concurrent",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "difflib",
    "doctest",
    "email",
    "enum",
    "fnmatch",
    "fractions",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "html",
    "http",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "json",
    "logging",
    "multiprocessing",
    "os",
    "os.path",
    "pathlib",
    "pdb",
    "pickle",
    "platform",
    "pprint",
    "queue",
    "random",
    "re",
    "secrets",
    "shlex",
    "shutil",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "tomllib",
    "traceback",
    "typing",
    "unittest",
    "urllib",
    "uuid",
    "warnings",
    "weakref",
    "zipfile",
    "zoneinfo",
)

# Modules whose names users never see: their functions are documented under these names.
TITLES = {"posixpath": "os.path", "genericpath": "os.path"}

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]?$")


@dataclass(frozen=True)
class Passage:
    """One chunk of one docstring. ``title`` is the dotted name the docstring documents; ``id`` is
    ``"{title}#{n}"``, n counting that title's passages from 1 (unique within a corpus)."""

    id: str
    title: str
    text: str

    @property
    def document(self) -> str:
        """The text to index and to show a model: ``"{title}: {text}"``, so a passage names what it
        is about even out of context."""
        return f"{self.title}: {self.text}"


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_modules(root: Path | None = None) -> list[tuple[str, Path]]:
    """``(dotted module name, source file)`` for every public pure-Python module, sorted by name."""
    root = root or stdlib_dir()
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root).parts
        dirs[:] = sorted(d for d in dirs if _public_component(d) and d not in SKIPPED)
        for file in files:
            stem, ext = os.path.splitext(file)
            if ext != ".py" or (stem != "__init__" and not _public_component(stem)):
                continue
            parts = [*here, stem] if stem != "__init__" else list(here)
            if parts and not any(p in SKIPPED for p in parts):
                found.append((".".join(parts), Path(folder) / file))
    return sorted(found)


def _public_component(part: str) -> bool:
    # Rules out private modules and directories that cannot be imported (site-packages, config-3.11-...).
    return bool(_IDENT.match(part)) and not part.startswith("_")


def _selected(name: str, modules: Sequence[str] | None) -> bool:
    names = (name, TITLES.get(name, name))
    return modules is None or any(n == m or n.startswith(m + ".") for n in names for m in modules)


def stdlib_passages(
    limit: int | None = None, modules: Sequence[str] | None = None, *, root: Path | None = None
) -> list[Passage]:
    """Passages from the docstrings of ``modules`` (dotted names; a package includes its submodules;
    None: the whole standard library), at most ``limit`` of them, in a deterministic order."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if modules is not None and isinstance(modules, str):
        modules = [modules]
    out: list[Passage] = []
    if limit == 0:
        return out
    chunks: dict[str, int] = {}  # title -> chunks so far (two modules may document one title)
    documents: set[str] = set()  # the store keeps one row per text: keep one passage per text
    for name, path in stdlib_modules(root):
        if not _selected(name, modules):
            continue
        for title, doc in module_docstrings(TITLES.get(name, name), path):
            for text in chunk_words(clean_docstring(doc)):
                passage = Passage(id=f"{title}#{chunks.get(title, 0) + 1}", title=title, text=text)
                if passage.document in documents:
                    continue
                documents.add(passage.document)
                chunks[title] = chunks.get(title, 0) + 1
                out.append(passage)
                if limit is not None and len(out) >= limit:
                    return out
    return out


def corpus_key(passages: Iterable[Passage]) -> str:
    """A short stable hash of a corpus: equal corpora get equal keys (for naming a collection)."""
    digest = hashlib.sha256()
    for p in passages:
        digest.update(p.document.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:10]


# --- docstrings ----------------------------------------------------------------------------------


def module_docstrings(module: str, path: Path) -> Iterator[tuple[str, str]]:
    """``(title, raw docstring)`` for the module (titled ``module``) and its public classes, functions and methods, in
    source order. A file that does not parse (or is not UTF-8) yields nothing."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return
    doc = ast.get_docstring(tree, clean=False)
    if doc:
        yield module, doc
    exported = _exported(tree)
    seen: set[str] = set()
    for node in _definitions(tree.body):
        if node.name.startswith("_") or (exported is not None and node.name not in exported):
            continue
        title = f"{module}.{node.name}"
        if title in seen:  # a name defined in both branches of an ``if``: keep the first
            continue
        seen.add(title)
        doc = ast.get_docstring(node, clean=False)
        if doc:
            yield title, doc
        if isinstance(node, ast.ClassDef):
            for member in _definitions(node.body):
                if not member.name.startswith("_") and not isinstance(member, ast.ClassDef):
                    doc = ast.get_docstring(member, clean=False)
                    if doc:
                        yield f"{title}.{member.name}", doc


_Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _definitions(body: list[ast.stmt]) -> Iterator[_Definition]:
    """Classes and functions defined in ``body``, including inside ``if``/``try`` blocks (``os``
    defines half its functions under ``if _exists(...)``), in source order."""
    for node in body:
        if isinstance(node, _Definition):
            yield node
        elif isinstance(node, ast.If):
            yield from _definitions(node.body)
            yield from _definitions(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from _definitions(block)


def _exported(tree: ast.Module) -> set[str] | None:
    """The names a module's ``__all__`` lists, when it is built from literal strings
    (``__all__ = [...]``, ``+= [...]``, ``.extend([...])``, ``.append("x")``); None when the module
    has no ``__all__`` or builds it some other way."""
    names: set[str] = set()
    found = False
    for node in ast.walk(tree):
        value: ast.expr | None = None
        if (isinstance(node, ast.Assign) and any(_is_all(t) for t in node.targets)) or (
            isinstance(node, ast.AugAssign) and _is_all(node.target)
        ):
            value = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _is_all(node.func.value)
            and node.func.attr in ("append", "extend")
            and len(node.args) == 1
        ):
            value = node.args[0]
            if node.func.attr == "append":
                value = ast.List(elts=[value])
        else:
            continue
        if not isinstance(value, ast.List | ast.Tuple):
            return None
        found = True
        for elt in value.elts:
            if not (isinstance(elt, ast.Constant) and isinstance(elt.value, str)):
                return None
            names.add(elt.value)
    return names if found else None


def _is_all(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "__all__"


def clean_docstring(doc: str) -> str:
    """The docstring's prose as one line of words: indentation removed (``inspect.cleandoc``),
    doctest paragraphs dropped, whitespace collapsed."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(doc))
    kept = [p for p in paragraphs if not p.lstrip().startswith(">>>")]
    return " ".join(" ".join(p.split()) for p in kept if p.strip())


def chunk_words(text: str, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[str]:
    """Split ``text`` into chunks of at most ``max_words`` words. A text of at most ``max_words``
    words is one chunk (none if it has fewer than ``SHORTEST``); a longer one is split into
    ``ceil(words / max_words)`` chunks of ``min_words`` to ``max_words`` words each, cut at sentence
    ends where one falls in range and near an even split otherwise."""
    words = text.split()
    if len(words) < SHORTEST:
        return []
    chunks: list[str] = []
    start = 0
    while len(words) - start > max_words:
        rest = len(words) - start
        target = rest / math.ceil(rest / max_words)
        # A cut after c words keeps this chunk in [min_words, max_words] and leaves enough for
        # the chunks still to come (at least min_words).
        lo, hi = min_words, min(max_words, rest - min_words)
        ends = [c for c in range(lo, hi + 1) if _SENTENCE_END.search(words[start + c - 1])]
        cut = min(ends, key=lambda c: (abs(c - target), c)) if ends else round(target)
        chunks.append(" ".join(words[start : start + cut]))
        start += cut
    chunks.append(" ".join(words[start:]))
    return chunks


__all__ = [
    "DEMO_MODULES",
    "MAX_WORDS",
    "MIN_WORDS",
    "SHORTEST",
    "Passage",
    "chunk_words",
    "clean_docstring",
    "corpus_key",
    "module_docstrings",
    "stdlib_dir",
    "stdlib_modules",
    "stdlib_passages",
]
