"""Engines: where the runs of a grid train.

- `local`: in the pytest process, one run after another (pytest-xdist splits the tests over
  processes of this machine). Today's path.
- `ray`: every selected run that is not cached is a Ray Core task, all submitted when pytest has
  collected the tests, so a cluster works on the whole grid while pytest walks it; each test waits
  for its own runs (cnn.ablate.engines.ray).

Both train a run through the same function (cnn.ablate.engines.local.train_job), so a run's numbers
depend on its inputs (config, data, versions, threads), never on the engine. The driver alone
writes the cache and the CSVs.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnn.config import Config

ENGINES = ("local", "ray")
PROGRESS_EVERY_S = 10.0  # at most one progress line per 10 s: a grid of hundreds of runs stays readable


@dataclass(frozen=True)
class Job:
    """One run: a variant's config for one seed, on one device, under its cache key."""

    key: str
    config: Config
    device: str  # "cpu" or "gpu"
    accuracy_checks: int = 0  # train's argument (the speed axis' time-to-accuracy)
    base_errors: bool = False  # also list the test images it gets wrong (the base model, seed 0, on cpu)
    label: str = ""  # "dropout[0.5] seed 0 on cpu", for messages
    evaluations: tuple[str, ...] = ()  # run on the trained model (cnn.ablate.evaluations), e.g. "photos"


def worker_info(node: str) -> dict:
    """Where a run trained: the node (Ray's node id, or "local"), its host name, CPU model and
    TensorFlow's intra-op threads (its default, 0, written as the cores it then uses)."""
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {"node": node, "host": platform.node(), "cpu_model": cpu_model(), "threads": threads or usable_cores()}


def cpu_model() -> str:
    """The processor's marketing name ("Intel(R) Xeon(R) Processor"): platform.processor() is empty
    on most Linux systems, /proc/cpuinfo has it."""
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def memory_mb() -> dict[str, float]:
    """This process' resident memory now and at its peak, in MiB: a grid must not grow it run by run."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    try:
        with open("/proc/self/statm") as stream:
            now = int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: only the peak is known
        now = float("nan")
    return {"rss_mb": round(now, 1), "peak_rss_mb": round(peak, 1)}


class Progress:
    """The live line of a grid: runs trained / to train, running, elapsed, estimated time left.
    Runs are counted by cache key (two axes may share a run). `slots` is how many train at once."""

    def __init__(self, engine: str = "local", slots: int = 1):
        self.engine, self.slots = engine, slots
        self.keys: set[str] = set()  # every run to train this session
        self.finished: set[str] = set()
        self.started = time.monotonic()
        self._said, self._said_done = time.monotonic(), 0  # when the last line was printed, and at how many runs

    def expect(self, key: str) -> None:
        self.keys.add(key)

    def finish(self, key: str) -> None:
        self.keys.add(key)  # a run no collected test announced (a test calling run_variant itself)
        self.finished.add(key)

    def line(self) -> str:
        done, total = len(self.finished), len(self.keys)
        elapsed = time.monotonic() - self.started
        running = min(total - done, self.slots)
        # Throughput so far, whatever the parallelism: elapsed per finished run times the runs left.
        eta = f"about {_clock(elapsed / done * (total - done))} left" if done else "time left not known yet"
        return (f"ablation ({self.engine}): {done}/{total} runs trained, {running} running, "
                f"{_clock(elapsed)} elapsed, {eta}")

    def due(self) -> bool:
        """Whether a line is due now: at the first and the last finished run, else every
        PROGRESS_EVERY_S (also while nothing finishes: the line shows the grid is alive)."""
        now, done = time.monotonic(), len(self.finished)
        first_or_last = done != self._said_done and done in (1, len(self.keys))
        if self.keys and (first_or_last or now - self._said >= PROGRESS_EVERY_S):
            self._said, self._said_done = now, done
            return True
        return False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
