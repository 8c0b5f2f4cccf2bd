"""cnn.source: code hashed by meaning, so comments, docstrings and layout never retrain anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cnn.errors import CnnError
from cnn.source import meaning_hash, module_hash, module_path

ROOT = Path(__file__).resolve().parents[1]

CODE = '''"""A module."""

RATE = 0.1


class Step:
    """A class."""

    def apply(self, x):
        """A method."""
        return x * RATE  # scaled
'''


@pytest.mark.parametrize("edit", [
    lambda s: s.replace('"""A module."""', '"""A module, its docstring\\nfixed and longer."""'),
    lambda s: s.replace('"""A method."""', "'''Another docstring.'''"),
    lambda s: s.replace("  # scaled", "  # a comment that says why"),
    lambda s: s.replace("RATE = 0.1\n", "\n\nRATE = 0.1   # moved down, spaced out\n"),
    lambda s: s.replace('        """A method."""\n', ""),  # a docstring removed
], ids=["module-docstring", "method-docstring", "comment", "layout", "docstring-removed"])
def test_docstrings_comments_and_layout_keep_the_hash(edit):
    assert meaning_hash(edit(CODE)) == meaning_hash(CODE)


@pytest.mark.parametrize("edit", [
    lambda s: s.replace("RATE = 0.1", "RATE = 0.2"),
    lambda s: s.replace("x * RATE", "x / RATE"),
    lambda s: s.replace('        """A method."""\n', '        """A method."""\n        x = -x\n'),
    lambda s: s.replace("RATE = 0.1", 'RATE = 0.1\nNAME = "not a docstring"'),
], ids=["constant", "operator", "statement", "string-constant"])
def test_code_edits_change_the_hash(edit):
    assert meaning_hash(edit(CODE)) != meaning_hash(CODE)


def test_a_module_is_found_by_name_without_importing_it_or_keras():
    code = ("import sys; from cnn.source import module_hash, module_path; "
            "print(module_path('cnn.models.sequential')); module_hash('cnn.photos.read'); module_hash('cnn.models'); "
            "assert not {'keras', 'tensorflow', 'cnn.models', 'cnn.photos.read'} & set(sys.modules), 'imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "cnn" / "models" / "sequential.py"
    assert module_path("cnn.models") == ROOT / "cnn" / "models" / "__init__.py"
    assert module_hash("cnn.data") == meaning_hash((ROOT / "cnn" / "data.py").read_text())


def test_an_unknown_module_is_a_one_line_error():
    with pytest.raises(CnnError, match="module 'cnn.no_such_module' cannot be found"):
        module_hash("cnn.no_such_module")
    with pytest.raises(CnnError, match="module 'no_such_package_here' cannot be found"):
        module_hash("no_such_package_here")
