"""The Ray engine: every run of the grid is one Ray Core task on a cluster (docs/cluster.md).

Tasks, not Ray Tune: the grid is fixed in advance, pytest already is the driver that enumerates,
judges and reports it, and the cache and CSVs must be written by that one process. A task per run is
all that needs from Ray (placement by CPUs and GPUs, retries, cancellation); Tune would bring its
own trial runner, result folders and stopping logic that would each duplicate a part of the suite.

The driver submits every selected, uncached run when pytest has collected the tests (`submit`); a
test then waits for its own runs (`result`), storing every other run that finishes meanwhile, so a
Ctrl-C loses no finished run. A worker trains through cnn.ablate.engines.worker.train_spec, which
checks that its data, libraries and training code are the driver's.
"""

from __future__ import annotations

import logging
import os
import signal

import ray

from cnn.ablate.engines import BaseEngine, EngineContext, Job, RunFailed
from cnn.ablate.engines.worker import expected_here, train_spec, travelling_arrays
from cnn.errors import CnnError

# A task whose worker process dies (SIGKILL, the OOM killer, a lost node) runs again, up to this
# many times; an exception inside a run (a refused node, a config that does not fit) is not retried.
RETRIES = 3
WAIT_S = 1.0  # how often a waiting test wakes to store other finished runs and print progress
# CPUs per run. One: a run then sums in the same order on every node whatever its core count
# (TensorFlow's intra-op threads change float sums), so its numbers and cache key do not depend on
# where it ran; and a grid is many small independent runs, so a core per run keeps a cluster busy
# without leaning on how well one small-batch run scales over threads.
DEFAULT_CPUS_PER_RUN = 1


def _train_on_worker(spec: dict, dataset_spec: str, arrays: dict | None, expected: dict, threads: int) -> dict:
    return train_spec(spec, dataset_spec, arrays, expected, threads, node=ray.get_runtime_context().get_node_id())


train_task = ray.remote(_train_on_worker)
# TensorFlow keeps a GPU's memory until its process ends: a fresh worker process for every GPU run.
train_task_gpu = ray.remote(max_calls=1)(_train_on_worker)


class RayEngine(BaseEngine):
    """The driver's side: connects, puts the data in the object store once, submits runs and hands
    back their records; every finished run passes through the session's store once."""

    name = "ray"
    trains_here = False
    takes_address = True
    allows_xdist = False  # it spreads the runs over the cluster itself
    default_cpus_per_run = DEFAULT_CPUS_PER_RUN

    def __init__(self, settings):
        super().__init__(settings)
        self.cpus_per_run = settings.cpus_per_run or DEFAULT_CPUS_PER_RUN
        self.started = False
        self.pending: dict = {}  # ObjectRef -> Job, submitted and not yet stored
        self._arrays = None
        self._expected: dict = {}

    def start(self, context: EngineContext) -> None:
        """Connect (or start a local Ray instance when there is no address) and put the data in the
        object store where workers cannot load it by name. Raises CnnError when Ray cannot start
        or the address does not answer."""
        super().start(context)
        if self.started:
            return
        from cnn import runtime

        address = self.settings.address
        handler = signal.getsignal(signal.SIGINT)
        options = {} if address else {"include_dashboard": False}  # a local instance starts faster without it
        if not address:
            # Ray runs workers at nice 15, under everything else on the machine: on a busy one a run's
            # recorded times would then measure the neighbours. The local engine's runs get nice 0;
            # so do these (the raylet, which the workers inherit this from, is started now).
            os.environ.setdefault("RAY_worker_niceness", "0")
        try:
            # Workers' TensorFlow logs would interleave with pytest's output; failures come back as exceptions.
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError, ray.exceptions.RayError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            token = "" if os.environ.get("RAY_AUTH_MODE") == "token" else \
                "; a cluster with token authentication also needs RAY_AUTH_MODE=token and RAY_AUTH_TOKEN here"
            raise CnnError(f"cannot start or reach Ray at {address or 'a new local instance'} ({first}); "
                           f"start a cluster with `ray start --head` and pass its HOST:PORT{token}") from None
        if signal.getsignal(signal.SIGINT) is not handler:  # keep the suite's Ctrl-C (cnn.runtime)
            runtime.install_interrupt()
        self.started = True
        arrays = travelling_arrays(context.dataset, self.settings.dataset_spec)
        self._arrays = ray.put(arrays) if arrays is not None else None  # npz:PATH or a project's own data: once
        self._expected = expected_here(context.dataset, context.versions)

    def threads(self) -> int:
        return self.cpus_per_run  # a worker trains on as many threads as its task has CPUs

    def slots(self) -> int:
        """Runs the cluster trains at once now (its CPUs over CPUs per run)."""
        return max(1, int(ray.cluster_resources().get("CPU", 0) // self.cpus_per_run))

    def gpus(self) -> int:
        return int(ray.cluster_resources().get("GPU", 0))

    def submit(self, job: Job) -> None:
        """Queue one run on the cluster (once per key)."""
        if job.key in self.submitted:
            return
        super().submit(job)
        gpu = job.device == "gpu"
        ref = (train_task_gpu if gpu else train_task).options(
            num_cpus=self.cpus_per_run, num_gpus=1 if gpu else 0, max_retries=RETRIES, retry_exceptions=False,
            name=f"train {job.label}",
        ).remote(job.to_spec(), self.settings.dataset_spec, self._arrays, self._expected, self.cpus_per_run)
        self.pending[ref] = job

    def result(self, job: Job) -> dict:
        """The record of `job`'s run, submitting it if it was not; while waiting, every finished run
        is stored and the progress line ticked every WAIT_S. Raises RunFailed."""
        from cnn import runtime

        self.submit(job)
        while job.key not in self.finished:
            self._collect(WAIT_S)
            self.context.tick()
            runtime.check_interrupt()
        return self.outcome(job.key)

    def _collect(self, timeout: float) -> int:
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
                record = ray.get(ref)
            except ray.exceptions.RayError as error:
                record = _failure(job, error)
            self.finish(job, record)
        return len(ready)

    def describe(self) -> list[str]:
        nodes = sum(1 for node in ray.nodes() if node.get("Alive")) if self.started else 0
        return [f"ablation (ray): {len(self.submitted)} runs submitted to {nodes} node(s), "
                f"{self.slots() if self.started else 0} at a time ({self.cpus_per_run} CPU each)"]

    def close(self) -> None:
        """Keep every finished run, cancel the rest (a queued run never starts; a running one is
        interrupted) and disconnect; a local instance stops."""
        if not self.started:
            return
        try:
            self._collect(0)
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
