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
    memory, with `job.base_errors` the test images it gets wrong (`base_errors`, rows for
    base_errors.csv), and with `job.evaluations` their metrics and, under `evaluation_arrays`,
    their arrays by name (the driver saves them). Raises CnnError when the config does not fit the data."""
    import tensorflow as tf

    from cnn.ablate.evaluations import evaluate
    from cnn.train import train

    started = time.perf_counter()
    with tf.device("/GPU:0" if job.device == "gpu" else "/CPU:0"):
        result = train(job.config, dataset, accuracy_checks=job.accuracy_checks)
    train_s = time.perf_counter() - started
    errors = base_errors(result.model, dataset) if job.base_errors else None
    metrics, arrays = evaluate(job.evaluations, result.model, dataset)
    result.model = None  # free the network now; only the numbers are kept
    record = {**result.to_dict(), **metrics, "train_s": train_s, **worker_info(node), **memory_mb()}
    if errors is not None:
        record["base_errors"] = errors
    if arrays:
        record["evaluation_arrays"] = arrays
    return record


def base_errors(model, dataset: Dataset) -> list[dict]:
    """The test images `model` gets wrong: index, true and predicted label, confidence."""
    from cnn.predict import probabilities

    probs = probabilities(model, dataset.x_test)
    predicted = probs.argmax(axis=1)
    wrong = (predicted != dataset.y_test).nonzero()[0]
    return [{"test_index": int(i), "true": int(dataset.y_test[i]), "predicted": int(predicted[i]),
             "confidence": round(float(probs[i, predicted[i]]), 4)} for i in wrong]
