"""The layers (pyproject.toml's import-linter contracts): cli -> ablate -> report -> results ->
library, arrows down only. The contracts hold on this tree, a reverse import planted in a copy of it
breaks them by name, and no module of the package escapes them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    # import-linter puts the working directory first on the path: the copy's package is the one read.
    return subprocess.run([str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
                          cwd=project, capture_output=True, text=True, timeout=300)


def test_the_contracts_hold_on_this_tree():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_planted_reverse_import_breaks_the_layers_by_name(tmp_path):
    shutil.copytree(ROOT / "cnn", tmp_path / "cnn", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    judge = tmp_path / "cnn" / "results" / "judge.py"
    judge.write_text(judge.read_text() + "\nimport cnn.ablate.session  # noqa: E402,F401  (planted)\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "cli -> ablate -> report -> results BROKEN" in result.stdout
    assert "cnn.results.judge -> cnn.ablate.session" in result.stdout


def test_every_module_of_the_package_is_under_a_contract():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = {f"cnn.{name}" for name in contracts[0]["layers"]}
    library = set(contracts[1]["source_modules"])
    top_level = {
        f"cnn.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "cnn").iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").exists()) and path.stem not in ("__init__", "__main__")
    }
    assert top_level - layers - library == set(), "add the new module to a contract in pyproject.toml"
    assert library & layers == set()
