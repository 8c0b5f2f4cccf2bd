"""Every bad input of docs/bad_inputs.py (the list behind docs/bad-inputs.md) through the real
`cnn` command line: exit 2 and one line on stderr naming the problem and the fix, no traceback.

The `cnn` cases run in this process (cnn.cli.main); the pytest-option cases are in
tests/test_reliability.py, which runs them in-process too.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from cnn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _load_cases():
    spec = importlib.util.spec_from_file_location("docs_bad_inputs", ROOT / "docs" / "bad_inputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


BAD_INPUTS = _load_cases()
CLI_CASES = [case for case in BAD_INPUTS.CASES if case.tool == "cnn"]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad-inputs")
    BAD_INPUTS.make_files(folder)
    return folder


@pytest.mark.parametrize("case", CLI_CASES, ids=[case.what for case in CLI_CASES])
def test_bad_input_gives_exit_2_and_one_clear_line(case, bad_files, monkeypatch, capfd):
    monkeypatch.chdir(bad_files)  # the cases name their files relative to the scratch folder
    try:
        code = main(list(case.argv))
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capfd.readouterr()  # file-descriptor level: native noise would show up too
    outcome = BAD_INPUTS.Outcome(case, code, err)
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(("cnn: error: ", "cnn train: error: "))
    assert outcome.problems() == [], err


def test_the_list_covers_every_kind_of_bad_input():
    kinds = " | ".join(case.what for case in BAD_INPUTS.CASES)
    for kind in ("misspelt", ".npz missing", ".npz corrupt", "keys missing", "different lengths", "different shapes",
                 "not 2-D", "out of range", "non-integer", "NaN", "inf", "0-255 in a float", "empty arrays",
                 "dropout", "negative layer width", "pool_size larger", "unknown activation", "unknown optimizer",
                 "unknown initializer", "epochs 0", "image file missing", "image file empty", "not an image",
                 "truncated JPEG", "model file missing", "model file corrupt", "not a classifier",
                 "--ablation-profile unknown", "not writable"):
        assert kind in kinds, kind


def test_the_table_is_current():
    """docs/bad-inputs.md lists every case of the script (run `python docs/bad_inputs.py` after a change)."""
    table = (ROOT / "docs" / "bad-inputs.md").read_text()
    for case in BAD_INPUTS.CASES:
        assert f"| {case.what} |" in table.replace("\\|", "|"), f"{case.what}: rerun docs/bad_inputs.py"
    assert "**(" not in table, "a row of docs/bad-inputs.md is flagged: rerun docs/bad_inputs.py and fix it"
