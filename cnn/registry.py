"""Named parts (datasets, activations, optimizers, presets) found by name, as in big_vision's registry."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from cnn.errors import CnnError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> part table. Registering a name twice, or asking for an unknown one, fails loudly."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            self.add(name, item)
            return item

        return add

    def add(self, name: str, item: T) -> None:
        if name in self._items:
            raise CnnError(f"{self.kind} {name!r} is already registered; pick another name")
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise CnnError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
