"""cnn/ablate/provenance.py: the one-line warning when a run's libraries differ from the baseline's, and the
constraints file that pins the baseline's versions."""

from __future__ import annotations

import json
from pathlib import Path

from cnn.ablate.provenance import pinned_versions, version_drift
from cnn.train import library_versions

ROOT = Path(__file__).resolve().parent.parent
BASELINE = {"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def test_the_same_versions_give_no_warning():
    assert version_drift(BASELINE, dict(BASELINE)) is None
    assert {"tensorflow", "keras", "numpy"} <= set(library_versions())  # what a run records and is compared on


def test_a_different_library_is_named_with_both_versions_on_one_line():
    line = version_drift(BASELINE, {**BASELINE, "tensorflow": "2.22.0"})
    assert line == ("this run uses tensorflow 2.22.0; the baseline was measured with tensorflow 2.21.0: "
                    "accuracies may differ; install with `make install` (constraints.txt)")


def test_only_the_libraries_that_differ_are_named_in_the_runs_order():
    line = version_drift(BASELINE, {"python": "3.11.7", "tensorflow": "2.22.0", "keras": "3.15.1", "numpy": "2.5.0"})
    assert line.startswith(
        "this run uses tensorflow 2.22.0, numpy 2.5.0; the baseline was measured with tensorflow 2.21.0, numpy 2.4.6:"
    )
    assert "keras" not in line and "\n" not in line


def test_what_a_constraints_file_cannot_pin_or_one_side_does_not_record_is_not_compared():
    assert version_drift(BASELINE, {**BASELINE, "python": "3.12.1"}) is None  # the interpreter
    assert version_drift({}, library_versions()) is None  # a baseline that records no versions
    assert version_drift(None, BASELINE) is None
    assert version_drift({"tensorflow": "2.21.0"}, {**BASELINE, "jax": "0.5"}) is None


def test_pinned_versions_reads_a_constraints_file(tmp_path):
    path = tmp_path / "constraints.txt"
    path.write_text("# written by make lock\ntyping_extensions==4.16.0\nKeras == 3.15.1\n-e .\nnumpy>=2\n")
    assert pinned_versions(path) == {"typing-extensions": "4.16.0", "keras": "3.15.1"}


def test_the_constraints_pin_the_versions_the_committed_study_was_measured_with():
    # `make install` must rebuild the environment of results/standard; after `make lock` moves one of
    # these, re-run the study and the baseline (then this passes again).
    pins = pinned_versions(ROOT / "constraints.txt")
    measured = json.loads((ROOT / "results/standard/run.json").read_text())["versions"]
    assert {"tensorflow", "keras", "numpy"} <= set(pins)
    assert version_drift(measured, pins) is None
