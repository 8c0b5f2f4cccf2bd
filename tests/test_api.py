"""cnn/__init__.py: the flat public API a project of its own uses, loaded on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import cnn

ROOT = Path(__file__).resolve().parents[1]


def test_what_a_project_declares_comes_without_tensorflow():
    code = (
        "import sys; from cnn import (CnnError, Config, Dataset, PRESETS, load_dataset, preset, register_augmentation, "
        "register_dataset, register_model, register_optimizer); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'loaded'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_public_name_is_its_modules_own():
    for name in cnn.__all__:
        value = getattr(cnn, name)
        if name != "CnnError":
            assert value is getattr(importlib.import_module(cnn._LAZY[name]), name), name
    assert set(cnn.__all__) <= set(dir(cnn))


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="module 'cnn' has no attribute 'Trainer'"):
        cnn.Trainer  # noqa: B018
