"""Training one run where this code runs: what the local engine does in the pytest process for each
run, and what a Ray worker does for its task. One function for both, so an engine cannot change a
run's numbers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cnn.ablate.engines import Job, memory_mb, worker_info

if TYPE_CHECKING:
    from cnn.data import Dataset


def train_job(job: Job, dataset: Dataset, node: str = "local") -> dict:
    """Train `job` on `dataset` here and return its record: RunResult.to_dict(), `train_s` (the
    wall time of training, what pytest-benchmark times), where it ran (worker_info), this process'
    memory, and with `job.evaluations` (the errors evaluation lists the test images it gets wrong)
    their metrics and, under `evaluation_arrays`,
    their arrays by name (the driver saves them). Raises CnnError when the config does not fit the data."""
    import tensorflow as tf

    from cnn.ablate.evaluations import evaluate
    from cnn.train import train

    started = time.perf_counter()
    with tf.device("/GPU:0" if job.device == "gpu" else "/CPU:0"):
        result = train(job.config, dataset, accuracy_checks=job.accuracy_checks)
    train_s = time.perf_counter() - started
    metrics, arrays = evaluate(job.evaluations, result.model, dataset)
    result.model = None  # free the network now; only the numbers are kept
    record = {**result.to_dict(), **metrics, "train_s": train_s, **worker_info(node), **memory_mb()}
    if arrays:
        record["evaluation_arrays"] = arrays
    return record
