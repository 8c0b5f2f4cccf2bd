"""The pytest-benchmark adapter: the one place that touches its fixture, private API included.

A variant's benchmark holds one round per seed of real training: rounds timed here as they train
(an engine that trains in this process), and the training times recorded elsewhere (a cached run,
a remote worker's run) added to the same stats, so `--benchmark-save` saves a whole grid.
"""

from __future__ import annotations

from typing import Callable


class Bench:
    """A variant's pytest-benchmark fixture, or nothing (not installed, -p no:benchmark): then the
    rounds simply run."""

    def __init__(self, fixture=None):
        self.fixture = fixture

    @classmethod
    def from_request(cls, request) -> Bench:
        import pytest

        try:  # pytest-benchmark registers itself as "benchmark": has_plugin("pytest_benchmark") never saw it
            return cls(request.getfixturevalue("benchmark"))
        except pytest.FixtureLookupError:
            return cls(None)

    def group(self, name: str) -> None:
        """The table group: cached and remote times are shown apart from times taken now."""
        if self.fixture is not None:
            self.fixture.group = name

    def time_rounds(self, items: list, run: Callable[[object], None]) -> None:
        """`run(item)` for each item, one timed round each (iterations=1: a round is one training)."""
        queue = list(items)
        if self.fixture is not None and queue:
            self.fixture.pedantic(run, setup=lambda: ((queue.pop(0),), {}), rounds=len(queue), iterations=1)
        while queue:  # without the fixture, or when it is disabled (under xdist it then runs one round)
            run(queue.pop(0))

    def add_recorded(self, seconds: list[float]) -> None:
        """Times measured elsewhere, entered as rounds. pytest-benchmark has no public call to add
        a measured duration; `_make_stats` is what its own pedantic mode uses."""
        fixture = self.fixture
        if fixture is None or not seconds or not fixture.enabled:
            return
        if fixture.stats is None:  # nothing was timed here
            fixture._mode = "recorded training times"
            fixture._make_stats(1)
        for value in seconds:
            fixture.stats.update(value)

    def info(self, values: dict) -> None:
        """What goes into the saved JSON next to the timing."""
        if self.fixture is not None:
            self.fixture.extra_info.update(values)
