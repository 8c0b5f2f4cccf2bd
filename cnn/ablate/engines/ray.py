"""The Ray engine: every run of the grid is one Ray Core task on a cluster (docs/cluster.md).

Tasks, not Ray Tune: the grid is fixed in advance, pytest already is the driver that enumerates,
judges and reports it, and the cache and CSVs must be written by that one process. A task per run is
all that needs from Ray (placement by CPUs and GPUs, retries, cancellation); Tune would bring its
own trial runner, result folders and stopping logic that would each duplicate a part of the suite.

The driver submits every selected, uncached run when pytest has collected the tests
(`RayEngine.submit`); a test then waits for its own runs (`RayEngine.result`), storing every other
run that finishes meanwhile, so a Ctrl-C loses no finished run. A worker trains with TensorFlow's
intra-op pool set to the task's CPUs, after checking that its data, libraries and training code are
the driver's: where they differ the run fails with one line naming the node and the difference.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import signal
from typing import Callable

import ray

from cnn.ablate.engines import Job
from cnn.ablate.engines.local import train_job
from cnn.errors import CnnError

# A task whose worker process dies (SIGKILL, the OOM killer, a lost node) runs again, up to this
# many times; an exception inside a run (a refused node, a config that does not fit) is not retried.
RETRIES = 3
WAIT_S = 1.0  # how often a waiting test wakes to store other finished runs and print progress
FIX = "install the driver's commit on every node with the same pinned versions (make install, constraints.txt)"


class RunFailed(Exception):
    """A run that did not come back; the message is one line naming the run and why."""


# --- on the worker ------------------------------------------------------------------------------

_datasets: dict = {}  # fingerprint -> Dataset: a worker process reuses its data for the next task


def train_on_worker(spec: dict, dataset_spec: str, arrays: dict | None, expected: dict, threads: int) -> dict:
    """Train one run on this worker; its record as train_job returns it, with `node` the Ray node id.
    Raises RunFailed (one line) where this node's data, versions or code differ from the driver's."""
    node = ray.get_runtime_context().get_node_id()
    where = f"{spec['label']}: node {node[:12]} ({platform.node()})"
    try:
        from cnn.runtime import set_threads

        set_threads(threads)  # Ray sets OMP_NUM_THREADS for the task; TensorFlow's own pool needs this
        config = _config(spec)
        dataset = _dataset(dataset_spec, arrays, expected["fingerprint"])
    except CnnError as error:
        raise RunFailed(f"{where}: {error}") from None
    differences = _differences(expected, spec, dataset, config)
    if differences:
        raise RunFailed(f"{where}: {'; '.join(differences)}; {FIX}")
    job = Job(spec["key"], config, spec["device"], spec["accuracy_checks"], spec["base_errors"], spec["label"],
              tuple(spec["evaluations"]))
    try:
        return train_job(job, dataset, node=node)
    except CnnError as error:
        raise RunFailed(f"{where}: {error}") from None


train_task = ray.remote(train_on_worker)
# TensorFlow keeps a GPU's memory until its process ends: a fresh worker process for every GPU run.
train_task_gpu = ray.remote(max_calls=1)(train_on_worker)


def _config(spec: dict):
    """The run's config, rebuilt from its fields here: a config class or model builder this node
    cannot import is one line, not an unpickling traceback."""
    module_name, _, class_name = spec["config_class"].rpartition(".")
    for name in (module_name, spec["model_module"]):
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise CnnError(f"cannot import {name!r} ({error}); a project's own config or model module must be "
                           "installed on every node") from None
    return getattr(importlib.import_module(module_name), class_name).from_dict(spec["config"])


def _dataset(spec: str, arrays: dict | None, fingerprint: str):
    """The dataset by its spec (a built-in name: loaded from this node's files), or the driver's
    arrays from the object store (npz:PATH and a project's own sources: the file may not be here)."""
    if fingerprint in _datasets:
        return _datasets[fingerprint]
    from cnn.data import Dataset, load_dataset

    dataset = Dataset(**arrays) if arrays is not None else load_dataset(spec)
    if dataset.fingerprint == fingerprint:  # a differing one is reported by _differences, never kept
        _datasets[fingerprint] = dataset
    return dataset


def _differences(expected: dict, spec: dict, dataset, config) -> list[str]:
    """What differs between this node and the driver, each as a few words; empty when nothing does."""
    from cnn.ablate.cache import source_hash
    from cnn.models import builder_source_hash
    from cnn.train import library_versions

    out = []
    if dataset.fingerprint != expected["fingerprint"]:
        out.append(f"dataset {dataset.name} has fingerprint {dataset.fingerprint} here, {expected['fingerprint']} on the driver")
    here = library_versions()
    for name, version in expected["versions"].items():
        if here.get(name) != version:
            out.append(f"{name} {here.get(name, 'missing')} here, {version} on the driver")
    if source_hash() != expected["source"]:
        out.append(f"the cnn package's training code differs (source {source_hash()} here, {expected['source']} on the driver)")
    if builder_source_hash(config.model) != spec["model_source"]:
        out.append(f"model {config.model!r} has other source here ({builder_source_hash(config.model)}, "
                   f"{spec['model_source']} on the driver)")
    return out


# --- on the driver ------------------------------------------------------------------------------


class RayEngine:
    """The driver's side: connects, puts the data in the object store once, submits runs and hands
    back their records. `store(job, record)` is the session's: it writes the cache and returns the
    record as the session keeps it; every finished run passes through it once."""

    def __init__(self, address: str | None, cpus_per_run: int, dataset_spec: str):
        self.address = address
        self.cpus_per_run = cpus_per_run
        self.dataset_spec = dataset_spec
        self.started = False
        self.pending: dict = {}  # ObjectRef -> Job, submitted and not yet stored
        self.submitted: set[str] = set()  # keys
        self.finished: dict[str, dict | str] = {}  # key -> stored record, or the one-line failure
        self._arrays = None
        self._expected: dict = {}

    def start(self, dataset, versions: dict) -> None:
        """Connect (or start a local Ray instance when there is no address) and put the data in the
        object store where workers cannot load it by name. Raises CnnError when Ray cannot start
        or the address does not answer."""
        if self.started:
            return
        from cnn import runtime as interrupt
        from cnn.ablate.cache import source_hash
        from cnn.data import DATASETS

        handler = signal.getsignal(signal.SIGINT)
        options = {} if self.address else {"include_dashboard": False}  # a local instance starts faster without it
        if not self.address:
            # Ray runs workers at nice 15, under everything else on the machine: on a busy one a run's
            # recorded times would then measure the neighbours. The local engine's runs get nice 0;
            # so do these (the raylet, which the workers inherit this from, is started now).
            os.environ.setdefault("RAY_worker_niceness", "0")
        try:
            # Workers' TensorFlow logs would interleave with pytest's output; failures come back as exceptions.
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError, ray.exceptions.RayError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            token = "" if os.environ.get("RAY_AUTH_MODE") == "token" else \
                "; a cluster with token authentication also needs RAY_AUTH_MODE=token and RAY_AUTH_TOKEN here"
            raise CnnError(f"cannot start or reach Ray at {self.address or 'a new local instance'} ({first}); "
                           f"start a cluster with `ray start --head` and pass its HOST:PORT{token}") from None
        if signal.getsignal(signal.SIGINT) is not handler:  # keep the suite's Ctrl-C (cnn.runtime)
            interrupt.install()
        self.started = True
        built_in = dataset.name == self.dataset_spec and self.dataset_spec in DATASETS \
            and DATASETS.get(self.dataset_spec).load.__module__ == "cnn.data"
        if not built_in:  # npz:PATH or a project's own source: the arrays travel, once
            self._arrays = ray.put({"name": dataset.name, "x_train": dataset.x_train, "y_train": dataset.y_train,
                                    "x_test": dataset.x_test, "y_test": dataset.y_test, "class_names": dataset.class_names})
        self._expected = {"fingerprint": dataset.fingerprint, "versions": dict(versions), "source": source_hash()}

    def slots(self) -> int:
        """Runs the cluster trains at once now (its CPUs over CPUs per run)."""
        return max(1, int(ray.cluster_resources().get("CPU", 0) // self.cpus_per_run))

    def gpus(self) -> int:
        return int(ray.cluster_resources().get("GPU", 0))

    def nodes(self) -> int:
        return sum(1 for node in ray.nodes() if node.get("Alive"))

    def submit(self, job: Job) -> None:
        """Queue one run on the cluster (once per key)."""
        if job.key in self.submitted:
            return
        from cnn.models import MODELS, builder_source_hash

        config_class = type(job.config)
        spec = {"key": job.key, "config_class": f"{config_class.__module__}.{config_class.__qualname__}",
                "config": job.config.to_dict(), "model_module": MODELS.get(job.config.model).__module__,
                "model_source": builder_source_hash(job.config.model), "device": job.device,
                "accuracy_checks": job.accuracy_checks, "base_errors": job.base_errors, "label": job.label,
                "evaluations": list(job.evaluations)}
        gpu = job.device == "gpu"
        ref = (train_task_gpu if gpu else train_task).options(
            num_cpus=self.cpus_per_run, num_gpus=1 if gpu else 0, max_retries=RETRIES, retry_exceptions=False,
            name=f"train {job.label}",
        ).remote(spec, self.dataset_spec, self._arrays, self._expected, self.cpus_per_run)
        self.pending[ref] = job
        self.submitted.add(job.key)

    def result(self, job: Job, store: Callable[[Job, dict], dict], tick: Callable[[], None]) -> dict:
        """The record of `job`'s run, submitting it if it was not; while waiting, every finished run
        is stored and `tick()` called (progress) every WAIT_S. Raises RunFailed."""
        from cnn import runtime as interrupt

        self.submit(job)
        while job.key not in self.finished:
            self.collect(store, WAIT_S)
            tick()
            interrupt.check()
        outcome = self.finished[job.key]  # kept: two axes may share a run (dropout 0 is the seed CNN)
        if isinstance(outcome, str):
            raise RunFailed(outcome)
        return outcome

    def collect(self, store: Callable[[Job, dict], dict], timeout: float) -> int:
        """Store every run that has finished, waiting up to `timeout` for the first; how many finished."""
        if not self.pending:
            return 0
        refs = list(self.pending)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        for ref in ready:
            job = self.pending.pop(ref)
            try:
                self.finished[job.key] = store(job, ray.get(ref))
            except ray.exceptions.RayError as error:
                self.finished[job.key] = _failure(job, error)
        return len(ready)

    def close(self, store: Callable[[Job, dict], dict]) -> None:
        """Keep every finished run, cancel the rest (a queued run never starts; a running one is
        interrupted) and disconnect; a local instance stops."""
        if not self.started:
            return
        try:
            self.collect(store, 0)
            for ref in self.pending:
                ray.cancel(ref)
            self.pending.clear()
        finally:
            ray.shutdown()
            self.started = False


def _failure(job: Job, error: Exception) -> str:
    """One line for a run that raised or whose worker kept dying."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, RunFailed):
        return str(cause)
    if cause is not None:
        return f"{job.label}: {type(cause).__name__}: {_first_line(cause)}"
    if isinstance(error, ray.exceptions.TaskCancelledError):
        return f"{job.label}: cancelled"
    return f"{job.label}: {type(error).__name__} (after {RETRIES} retries): {_first_line(error)}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
