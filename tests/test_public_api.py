"""The public API is flat (``import ayo_trace as ayo``): ``__all__`` is sorted, complete and documented."""

import inspect

import ayo_trace as ayo


def _sort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_unique() -> None:
    assert ayo.__all__ == sorted(set(ayo.__all__), key=_sort_key)


def test_every_name_is_importable_and_documented() -> None:
    for name in ayo.__all__:
        obj = getattr(ayo, name)  # AttributeError names the missing one
        if inspect.isclass(obj) or inspect.isfunction(obj) or isinstance(obj, ayo.Workflow):
            assert inspect.getdoc(obj), f"ayo.{name} has no docstring"


def test_every_public_class_and_function_is_exported() -> None:
    public = {
        n
        for n, obj in vars(ayo).items()
        if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
    }
    assert public <= set(ayo.__all__), sorted(public - set(ayo.__all__))
