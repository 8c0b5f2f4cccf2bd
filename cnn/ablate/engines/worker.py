"""The worker's side of every engine: training one job where this code runs, and, for an engine
whose workers are other processes or machines, rebuilding the job from its spec after checking
that this worker's data, libraries and training code are the driver's. One function trains for
every engine, so an engine cannot change a run's numbers.
"""

from __future__ import annotations

import os
import platform
import time
from typing import TYPE_CHECKING

from cnn.ablate.engines import Job, RunFailed
from cnn.errors import CnnError

if TYPE_CHECKING:
    from cnn.data import Dataset

FIX = "install the driver's commit on every node with the same pinned versions (make install, constraints.txt)"


def train_job(job: Job, dataset: Dataset, node: str = "local") -> dict:
    """Train `job` on `dataset` here and return its record: RunResult.to_dict(), `train_s` (the
    wall time of training, what pytest-benchmark times), where it ran (worker_info), this process'
    memory, the evaluations' metrics and, under `evaluation_arrays`, their arrays by evaluation
    name (the driver saves them), and which code trained it (trained_by). Raises CnnError when the
    config does not fit the data."""
    import tensorflow as tf

    from cnn.ablate.evaluations import evaluate
    from cnn.train import train

    started = time.perf_counter()
    with tf.device("/GPU:0" if job.device == "gpu" else "/CPU:0"):
        result = train(job.config, dataset, accuracy_checks=job.accuracy_checks, snapshot_epochs=job.snapshots)
    train_s = time.perf_counter() - started
    metrics, arrays = evaluate(job.evaluations, result.model, dataset)
    result.model = None  # free the network now; only the numbers are kept
    record = {**result.to_dict(), **metrics, "train_s": train_s, **worker_info(node), **memory_mb(),
              **trained_by()}
    if arrays:
        record["evaluation_arrays"] = arrays
    return record


def trained_by() -> dict:
    """Which code trained a run: `source`, the meaning hash of the training modules (what the cache
    key holds), and `commit`, the checkout's commit ("+dirty" with uncommitted changes to the
    package), so a report can say which commit trained each row and never mix versions silently."""
    from cnn.ablate.cache import source_hash
    from cnn.ablate.provenance import code_commit

    return {"source": source_hash(), "commit": code_commit()}


# --- a remote worker: the job from its spec, checked against the driver's ----------------------

_datasets: dict = {}  # fingerprint -> Dataset: a worker process reuses its data for the next job


def expected_here(dataset: Dataset, versions: dict[str, str]) -> dict:
    """What a worker must match (the driver computes it once): data, library versions, training code."""
    from cnn.ablate.cache import source_hash

    return {"fingerprint": dataset.fingerprint, "versions": dict(versions), "source": source_hash()}


def travelling_arrays(dataset: Dataset, dataset_spec: str) -> dict | None:
    """The dataset's arrays where a worker cannot load it by name (npz:PATH, a project's own
    source: the file may not be there), else None."""
    from cnn.data import DATASETS

    built_in = dataset.name == dataset_spec and dataset_spec in DATASETS \
        and DATASETS.get(dataset_spec).load.__module__ == "cnn.data"
    if built_in:
        return None
    return {"name": dataset.name, "x_train": dataset.x_train, "y_train": dataset.y_train,
            "x_test": dataset.x_test, "y_test": dataset.y_test, "class_names": dataset.class_names}


def train_spec(spec: dict, dataset_spec: str, arrays: dict | None, expected: dict, threads: int, node: str) -> dict:
    """Train the job `spec` describes on this worker; its record as train_job returns it. Raises
    RunFailed (one line) where this node's data, versions or code differ from the driver's, or the
    run fails with a CnnError."""
    where = f"{spec['label']}: node {node[:12]} ({platform.node()})"
    try:
        from cnn.runtime import set_threads

        set_threads(threads)  # the engine may set OMP_NUM_THREADS for the task; TensorFlow's own pool needs this
        job = Job.from_spec(spec)
        dataset = _dataset(dataset_spec, arrays, expected["fingerprint"])
    except CnnError as error:
        raise RunFailed(f"{where}: {error}") from None
    differences = _differences(expected, spec, dataset, job.config)
    if differences:
        raise RunFailed(f"{where}: {'; '.join(differences)}; {FIX}")
    try:
        return train_job(job, dataset, node=node)
    except CnnError as error:
        raise RunFailed(f"{where}: {error}") from None


def _dataset(spec: str, arrays: dict | None, fingerprint: str):
    """The dataset by its spec (a built-in name: loaded from this node's files), or the driver's arrays."""
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
        out.append(f"dataset {dataset.name} has fingerprint {dataset.fingerprint} here, "
                   f"{expected['fingerprint']} on the driver")
    here = library_versions()
    for name, version in expected["versions"].items():
        if here.get(name) != version:
            out.append(f"{name} {here.get(name, 'missing')} here, {version} on the driver")
    if source_hash() != expected["source"]:
        out.append(f"the cnn package's training code differs (source {source_hash()} here, "
                   f"{expected['source']} on the driver)")
    if builder_source_hash(config.model) != spec["model_source"]:
        out.append(f"model {config.model!r} has other source here ({builder_source_hash(config.model)}, "
                   f"{spec['model_source']} on the driver)")
    return out


# --- where a run trained ------------------------------------------------------------------------


def worker_info(node: str) -> dict:
    """Where a run trained: the node (the engine's node id, or "local"), its host name, CPU model
    and TensorFlow's intra-op threads (its default, 0, written as the cores it then uses)."""
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {"node": node, "host": platform.node(), "cpu_model": cpu_model(), "threads": threads or usable_cores()}


def cpu_model() -> str:
    """The processor's marketing name ("Intel(R) Xeon(R) Processor"): platform.processor() is empty
    on most Linux systems, /proc/cpuinfo has it."""
    from cnn.runtime import cpuinfo

    for line in cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
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
