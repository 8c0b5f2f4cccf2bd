"""Where a run's numbers came from: the run.json of a session (versions, machine, commit, wall
time), and the library versions against the baseline's: the one line a run prints when they differ.

The baseline's accuracies were measured with particular TensorFlow, Keras and numpy releases; a
newer one can move them by more than the guard's tolerance without any change in this code.
`constraints.txt` pins what the baseline was measured with (`make install` installs with it).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnn.ablate.options import SuiteOptions
    from cnn.data import Dataset

# The interpreter is recorded (cnn.train.library_versions) but not compared: a constraints file
# cannot pin it, and the packages built for it are what decide the numbers.
NOT_COMPARED = ("python",)
FIX = "install with `make install` (constraints.txt)"


def version_drift(baseline_versions: dict, run_versions: dict) -> str | None:
    """One line naming each library whose version differs between this run and the baseline, or
    None when none does. Only libraries both sides record are compared (a baseline that records no
    versions gives None), in the run's order. Never raises on missing or odd values."""
    baseline_versions = baseline_versions or {}
    run_versions = run_versions or {}
    differ = [
        name for name in run_versions
        if name in baseline_versions and name not in NOT_COMPARED
        and str(run_versions[name]).strip() != str(baseline_versions[name]).strip()
    ]
    if not differ:
        return None
    now = ", ".join(f"{name} {run_versions[name]}" for name in differ)
    then = ", ".join(f"{name} {baseline_versions[name]}" for name in differ)
    return f"this run uses {now}; the baseline was measured with {then}: accuracies may differ; {FIX}"


def pinned_versions(path: str | Path = "constraints.txt") -> dict[str, str]:
    """The `name==version` pins of a constraints file, names lower-case with "-" (as pip compares
    them: typing_extensions is typing-extensions); comments and other lines are skipped. Raises
    OSError when the file cannot be read."""
    pins = {}
    for line in Path(path).read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def run_info(options: SuiteOptions, dataset: Dataset, versions: dict[str, str], started: float, rows: int) -> dict:
    """run.json's content: what ran, on what, with which code; `started` is the session's
    time.monotonic() at pytest's configure, so wall_s is the run's wall time to its files."""
    from cnn.train import machine_info

    profile = options.profile
    return {
        "profile": profile.name, "description": profile.description, "dataset": dataset.name,
        "dataset_fingerprint": dataset.fingerprint,
        "seeds": options.seeds, "effect_seeds": max(options.effect_seeds, options.seeds), "epochs": profile.epochs,
        "recipe": profile.recipe, "target_accuracy": profile.target_accuracy,
        "wall_s": round(time.monotonic() - started, 1), "devices": list(options.devices), "versions": versions,
        "machine": machine_info(), "commit": git_commit(), "rows_this_session": rows,
        # the project's baseline, wherever the results went: the report borrows its one-seed spreads
        "baseline": os.path.relpath(options.baseline_path, options.output_dir),
    }


def git_commit() -> str:
    """The checkout's short commit, or "" outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


@functools.lru_cache(maxsize=1)
def code_commit() -> str:
    """The commit of the code this process runs: the checkout's short commit when it started, with
    "+dirty" where the package's own files had uncommitted changes ("" outside a git checkout). Kept
    per process: the modules loaded are the ones of its start, whatever is committed later."""
    commit = git_commit()
    if not commit:
        return ""
    package = Path(__file__).resolve().parents[1]
    try:
        changed = subprocess.run(["git", "status", "--porcelain", "--", str(package)], capture_output=True,
                                 text=True, timeout=5, cwd=package).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        changed = ""
    return commit + ("+dirty" if changed else "")
