"""cnn.registry: parts by name, loud on a repeated or unknown name; lazy parts import on first use."""

from __future__ import annotations

import sys

import pytest

from cnn.errors import CnnError
from cnn.registry import Registry, load


def test_a_lazy_part_is_named_at_once_and_imported_on_its_first_get(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # a small stdlib module nothing here imports
    parts: Registry = Registry("part")
    parts.add("eager", len)
    parts.add_lazy("lazy", "colorsys:rgb_to_hsv")
    assert parts.names() == ["eager", "lazy"] and "lazy" in parts
    assert parts.module("lazy") == "colorsys" and "colorsys" not in sys.modules
    assert parts.get("lazy") is load("colorsys:rgb_to_hsv") and "colorsys" in sys.modules
    assert parts.module("eager") == "builtins"


def test_repeated_unknown_and_malformed_names_are_one_line_errors():
    parts: Registry = Registry("part")
    parts.add_lazy("a", "colorsys:rgb_to_hsv")
    with pytest.raises(CnnError, match="part 'a' is already registered; pick another name"):
        parts.register("a")(len)
    with pytest.raises(CnnError, match="unknown part 'b'; known: a"):
        parts.get("b")
    with pytest.raises(CnnError, match="must be 'package.module:attribute'"):
        parts.add_lazy("c", "colorsys.rgb_to_hsv")
