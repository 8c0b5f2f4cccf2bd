"""Named parts (datasets, activations, optimizers, presets) found by name, as in big_vision's registry.

A part can be registered by its object, or by where it lives ("package.module:attribute") and
imported on its first `get`, so that a config checks a name without loading Keras.
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, Iterator, TypeVar

from cnn.errors import CnnError

T = TypeVar("T")


def load(target: str):
    """The object `target` names, "package.module:attribute", importing its module."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class Registry(Generic[T]):
    """A name -> part table. Registering a name twice, or asking for an unknown one, fails loudly."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:attribute", until its first get

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            self.add(name, item)
            return item

        return add

    def add(self, name: str, item: T) -> None:
        self._claim(name)
        self._items[name] = item

    def add_lazy(self, name: str, target: str) -> None:
        """Register `name` for the object at `target` ("package.module:attribute"), imported on first get."""
        if ":" not in target:
            raise CnnError(f"{self.kind} {name!r}: target {target!r} must be 'package.module:attribute'")
        self._claim(name)
        self._items[name] = None  # holds the name's place, so names() keeps the registration order
        self._lazy[name] = target

    def get(self, name: str) -> T:
        if name not in self._items:
            raise CnnError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        if name in self._lazy:
            self._items[name] = load(self._lazy[name])
            del self._lazy[name]
        return self._items[name]

    def module(self, name: str) -> str:
        """The module that defines `name`'s part, without importing it when it is not loaded yet."""
        if name in self._lazy:
            return self._lazy[name].partition(":")[0]
        return getattr(self.get(name), "__module__", "")

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def _claim(self, name: str) -> None:
        if name in self._items:
            raise CnnError(f"{self.kind} {name!r} is already registered; pick another name")
