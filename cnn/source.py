"""Hashes of code by what it means: its syntax tree without docstrings, so that a comment, a
docstring or a reformatting hashes the same and only a change of code changes the hash. The run
cache keys on these (cnn.ablate.cache), so fixing a typo in a docstring retrains nothing."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import sys
from pathlib import Path

from cnn.errors import CnnError

_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


@functools.lru_cache(maxsize=256)  # every run's cache key asks for its model's module: parse each text once
def meaning_hash(source: str) -> str:
    """A 16-hex-digit hash of `source`'s syntax tree with every module, class and function
    docstring left out (comments and layout are not in the tree). Raises SyntaxError for text
    that is not Python."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, _DOCUMENTED) and node.body and _is_docstring(node.body[0]):
            node.body = node.body[1:]
    # No line numbers or columns: moving code down a line is no change.
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]


def module_hash(name: str) -> str:
    """meaning_hash of the source file of module `name` ("cnn.photos.read"), found without
    importing it or its packages (so no TensorFlow starts). Raises CnnError when it has no
    Python source file."""
    return meaning_hash(module_path(name).read_text(encoding="utf-8"))


def module_path(name: str) -> Path:
    """The source file of module `name`: the loaded module's file, else found by walking its
    packages' folders from the top-level package (whose __init__ is not run)."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None):
        return _python_file(name, Path(loaded.__file__))
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise CnnError(f"module {name!r} cannot be found; is its package installed or on sys.path?")
    if not rest:
        return _python_file(name, Path(spec.origin or ""))
    for folder in spec.submodule_search_locations or ():
        base = Path(folder).joinpath(*rest)
        for path in (base / "__init__.py", base.with_suffix(".py")):
            if path.is_file():
                return path
    raise CnnError(f"module {name!r} cannot be found under {top}'s folder")


def _python_file(name: str, path: Path) -> Path:
    if path.suffix != ".py" or not path.is_file():
        raise CnnError(f"module {name!r} has no Python source file to hash ({path})")
    return path


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))
