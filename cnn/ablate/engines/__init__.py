"""Engines: where the runs of a grid train, behind one interface the session never looks behind.

- `local` (engines/local.py): in the pytest process, one run after another (pytest-xdist splits
  the tests over processes of this machine).
- `ray` (engines/ray.py): every selected, uncached run a Ray Core task, all submitted when pytest
  has collected the tests, so a cluster works on the whole grid while pytest walks it.

Every engine trains a run through the same function (engines/worker.py: `train_job`), so a run's
numbers depend on its inputs (config, data, versions, threads), never on the engine; a remote
engine rebuilds the job on the worker from `Job.to_spec()`. The driver alone writes the cache and
the CSVs: an engine hands each finished record to `EngineContext.store` once.

Your own engine is one file: a class with the `Engine` methods (subclass `BaseEngine` for the
bookkeeping) and `@register_engine("name")` over a factory taking `EngineSettings`; then
`--ablation-engine name`.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from cnn.errors import CnnError
from cnn.registry import Registry

if TYPE_CHECKING:
    from cnn.config import Config
    from cnn.data import Dataset

PROGRESS_EVERY_S = 10.0  # at most one progress line per 10 s: a grid of hundreds of runs stays readable


class RunFailed(Exception):
    """A run that did not come back; the message is one line naming the run and why."""


@dataclass(frozen=True)
class Job:
    """One run: a variant's config for one seed, on one device, under its cache key."""

    key: str
    config: Config
    device: str  # "cpu" or "gpu"
    accuracy_checks: int = 0  # train's argument (the speed axis' time-to-accuracy)
    label: str = ""  # "dropout[0.5] seed 0 on cpu", for messages
    evaluations: tuple[str, ...] = ()  # run on the trained model (cnn.ablate.evaluations), e.g. "photos"
    axis: str = ""  # the axis and variant that first asked for the run (two axes may share one)
    variant: str = ""
    snapshots: tuple[int, ...] = ()  # train's snapshot_epochs: the epochs of the variants read from this run

    def to_spec(self) -> dict:
        """The job as plain JSON-able values, for a worker on another machine: the config by its
        class path and fields, and the model builder's module and source hash (checked there)."""
        from cnn.models import MODELS, builder_source_hash

        config_class = type(self.config)
        return {"key": self.key, "config_class": f"{config_class.__module__}.{config_class.__qualname__}",
                "config": self.config.to_dict(), "model_module": MODELS.get(self.config.model).__module__,
                "model_source": builder_source_hash(self.config.model), "device": self.device,
                "accuracy_checks": self.accuracy_checks, "label": self.label, "evaluations": list(self.evaluations),
                "axis": self.axis, "variant": self.variant, "snapshots": list(self.snapshots)}

    @classmethod
    def from_spec(cls, spec: dict) -> Job:
        """The job `to_spec` described, its config rebuilt here. Raises CnnError (one line) when
        the config class or model module cannot be imported here, or a field is unknown."""
        module_name, _, class_name = spec["config_class"].rpartition(".")
        for name in (module_name, spec["model_module"]):
            try:
                importlib.import_module(name)
            except ImportError as error:
                raise CnnError(f"cannot import {name!r} ({error}); a project's own config or model module must be "
                               "installed on every node") from None
        config = getattr(importlib.import_module(module_name), class_name).from_dict(spec["config"])
        return cls(spec["key"], config, spec["device"], spec["accuracy_checks"], spec["label"],
                   tuple(spec["evaluations"]), spec.get("axis", ""), spec.get("variant", ""),
                   tuple(spec.get("snapshots", ())))


@dataclass(frozen=True)
class EngineSettings:
    """What the options say about the engine (--ablation-engine-address, --ablation-cpus-per-run)."""

    address: str | None = None  # a cluster's address; None: the engine's own default (a local instance)
    cpus_per_run: int | None = None  # CPUs and TensorFlow threads per run; None: the engine's default
    dataset_spec: str = ""  # --ablation-dataset as given: a worker loads built-in data by this name
    worker: str = ""  # the pytest-xdist worker id of this process ("" without -n)


@dataclass
class EngineContext:
    """What the session gives an engine when it starts: the data, the versions a worker must match,
    and the session's callbacks. `store(job, record)` caches one finished run and returns the record
    as the session keeps it; `tick()` prints the progress line when one is due."""

    dataset: Dataset
    versions: dict[str, str]
    store: Callable[[Job, dict], dict]
    tick: Callable[[], None] = lambda: None


class Engine(Protocol):
    """Where runs train. The session calls `start` once (before the first run), `submit` for every
    run it plans, `result` when a test needs a run, and `close` at the end (also after Ctrl-C)."""

    name: str  # --ablation-engine's value, in messages and the progress line
    trains_here: bool  # True: `result` trains in this process, so pytest-benchmark times it as it runs
    takes_address: bool  # whether --ablation-engine-address means anything to it
    allows_xdist: bool  # False: it spreads runs itself, so pytest-xdist's -n is refused
    default_cpus_per_run: int | None  # None: TensorFlow's default (every core of this machine)

    def start(self, context: EngineContext) -> None: ...
    def threads(self) -> int: ...  # TensorFlow intra-op threads a run trains with: part of its cache key
    def submit(self, job: Job) -> None: ...
    def outcome(self, key: str) -> dict | None: ...  # a run finished in this session (raises RunFailed), else None
    def result(self, job: Job) -> dict: ...  # the run's stored record, trained or waited for; raises RunFailed
    def slots(self) -> int: ...  # runs that train at once now
    def gpus(self) -> int: ...
    def parallel_tag(self) -> str: ...  # runs.csv's `parallel`: what else trained beside this run
    def describe(self) -> list[str]: ...  # a line or two on where the planned runs go (a remote engine)
    def close(self) -> None: ...


class BaseEngine:
    """The bookkeeping every engine shares: what was submitted, and each finished run's outcome
    (its stored record or a one-line failure), kept for the session (two axes may share a run)."""

    name = "base"
    trains_here = False
    takes_address = False
    allows_xdist = True
    default_cpus_per_run: int | None = None

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self.context: EngineContext | None = None
        self.submitted: set[str] = set()
        self.finished: dict[str, dict | str] = {}  # key -> stored record, or the one-line failure

    def start(self, context: EngineContext) -> None:
        self.context = context

    def threads(self) -> int:
        return self.settings.cpus_per_run or 0

    def submit(self, job: Job) -> None:
        self.submitted.add(job.key)

    def outcome(self, key: str) -> dict | None:
        found = self.finished.get(key)
        if isinstance(found, str):
            raise RunFailed(found)
        return found

    def finish(self, job: Job, record: dict | str) -> None:
        """Store one finished run (a record, or a failure's one line) through the session, once."""
        self.finished[job.key] = record if isinstance(record, str) else self.context.store(job, record)

    def slots(self) -> int:
        return 1

    def gpus(self) -> int:
        return 0

    def parallel_tag(self) -> str:
        return self.name

    def describe(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


# Factories by name: `--ablation-engine NAME` builds ENGINES.get(NAME)(settings).
ENGINES: Registry[Callable[[EngineSettings], Engine]] = Registry("engine")


def register_engine(name: str) -> Callable:
    """Decorator: `@register_engine("dask")` over a factory `make(settings: EngineSettings) -> Engine`."""
    return ENGINES.register(name)


@register_engine("local")
def _local(settings: EngineSettings) -> Engine:
    from cnn.ablate.engines.local import LocalEngine

    return LocalEngine(settings)


@register_engine("ray")
def _ray(settings: EngineSettings) -> Engine:
    try:
        from cnn.ablate.engines.ray import RayEngine
    except ImportError:
        raise CnnError("Ray is not installed here; install it with pip install -e '.[ray]' "
                       "(on every node of the cluster too)") from None
    return RayEngine(settings)


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


def where_trained(engine: str, rows: list[dict]) -> list[str]:
    """Where a session's runs (runs.csv rows) trained, for the terminal summary: other nodes only."""
    trained = {row["run_key"]: (row["node"], row["host"]) for row in rows
               if not row["cached"] and row.get("node", "local") != "local"}  # by run: two axes may share one
    counts = sorted(Counter(trained.values()).items())
    return [f"ablation ({engine}): {len(trained)} runs trained on {len(counts)} node(s)"] + [
        f"  node {node[:12]} ({host}): {count} run(s)" for (node, host), count in counts] if counts else []


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
