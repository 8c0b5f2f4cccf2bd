"""A pytest plugin the reliability tests load into the suite they start (`-p tests.suite_gate`).

After each test it writes `<gate>/done-<n>` (n counts finished tests) and waits until the test
that started it writes `<gate>/go-<n>`. The parent can so act (kill, Ctrl-C) at a moment the suite
itself signalled, between two variants, instead of guessing it from the clock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_finished = 0


def pytest_runtest_logfinish(nodeid, location):
    global _finished
    gate = os.environ.get("CNN_TEST_GATE")
    if not gate:
        return
    _finished += 1
    folder = Path(gate)
    (folder / f"done-{_finished}").write_text(nodeid)
    while not (folder / f"go-{_finished}").exists():
        time.sleep(0.01)  # a Ctrl-C lands here, between two tests
