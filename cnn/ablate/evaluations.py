"""Evaluations an axis asks for by name: `Axis(..., evaluations=("photos",))`.

Each runs on a model right after it trained, before the model is dropped, wherever it trained (in
the pytest process or on a Ray worker: cnn.ablate.engines.worker.train_job), and gives an Outcome:
metrics that go into the run's record (so runs.csv, summary.csv, the effects and the report see
them), and arrays the driver saves for seed 0 as `<results>/<evaluation>-<axis>-<variant>.npz`
(cnn.results.schema) for the report. The driver alone writes files, as it alone writes the cache:
a Ray worker's disk is not the results folder.

An evaluation declares the metrics it gives (cnn.results.metrics.Metric), registered with it, so
an evaluation of your own adds its columns without an edit to the library:

    @register_evaluation("ink", metrics=[Metric("ink_ratio", "ink ratio", ".3f", "higher")])
    def ink(model, dataset):
        return Outcome({"ink_ratio": ...})

The names an axis evaluates are part of its runs' cache key, with the source of the modules each
evaluation depends on: a run cached by another axis lacks the metric and is trained again, and a
change to the photo preparation measures again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from cnn.errors import CnnError
from cnn.registry import Registry
from cnn.results.metrics import Metric, add_metric
from cnn.source import module_hash

if TYPE_CHECKING:  # Keras loads with the first run, not with the axis files
    import keras

    from cnn.data import Dataset

PHOTOS = 100  # benchmark photos per run: ~1 point of photo accuracy each; made once per process (~50 s)
PHOTOS_SEED = 0  # the photos of the README's table and of `python -m cnn.photos.benchmark`


@dataclass(frozen=True)
class Outcome:
    """What one evaluation of one model gives."""

    metrics: dict[str, float] = field(default_factory=dict)  # into the run's record: runs.csv columns (its Metrics)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # saved by the driver for seed 0, for the report


@dataclass(frozen=True)
class Evaluation:
    run: Callable[["keras.Model", "Dataset"], Outcome]
    modules: tuple[
        str, ...
    ] = ()  # the modules (dotted: "cnn.predict") whose code decides its numbers: in the cache key
    prepare: Callable[["Dataset"], object] | None = None  # its fixed inputs, made before the timed training
    metrics: tuple[Metric, ...] = ()  # the metrics its Outcome gives (registered with it)
    # Whether it means anything on a dataset (None: on every one); where not, it does not run and
    # its metrics stay empty: digit photos read by a clothes classifier would be a number of nothing.
    applies_to: Callable[["Dataset"], bool] | None = None
    applies_note: str = ""  # what it applies to, in words, for the line saying it did not run

    def applies(self, dataset: Dataset) -> bool:
        return self.applies_to is None or bool(self.applies_to(dataset))


EVALUATIONS: Registry[Evaluation] = Registry("evaluation")


def register_evaluation(name: str, run: Callable | None = None, *, modules: tuple[str, ...] = (),
                        prepare: Callable | None = None, metrics=(), applies_to: Callable | None = None,
                        applies_note: str = ""):
    """Register the evaluation `name` and the metrics it declares (each Metric's `evaluation` set to
    `name`); `applies_to(dataset)` says where it means something (default: everywhere), in words
    in `applies_note`. As a call with `run`, returns the Evaluation; without, a decorator for `run`.
    Raises CnnError when the name or a metric's name is already registered."""

    def add(function: Callable) -> Callable:
        declared = tuple(dataclasses.replace(m, evaluation=name) for m in metrics)
        evaluation = Evaluation(function, tuple(modules), prepare, declared, applies_to, applies_note)
        EVALUATIONS.add(name, evaluation)
        for metric in declared:
            add_metric(metric)
        return function if run is None else evaluation

    return add(run) if run is not None else add


def evaluate(names: tuple[str, ...], model: keras.Model, dataset: Dataset) -> tuple[dict[str, float], dict[str, dict]]:
    """Every named evaluation of `model`: their metrics merged, and their arrays by evaluation name.
    Raises CnnError for an unknown name, or for a metric an evaluation gives but did not declare."""
    metrics, arrays = {}, {}
    for name in names:
        evaluation = EVALUATIONS.get(name)
        if not evaluation.applies(dataset):
            continue
        outcome = evaluation.run(model, dataset)
        undeclared = sorted(set(outcome.metrics) - {m.name for m in evaluation.metrics})
        if undeclared:
            raise CnnError(f"evaluation {name!r} gives metric(s) {', '.join(undeclared)} it does not declare; "
                           "add them to its metrics=[Metric(...)]")
        metrics.update(outcome.metrics)
        if outcome.arrays:
            arrays[name] = outcome.arrays
    return metrics, arrays


def prepare(names: tuple[str, ...], dataset: Dataset) -> None:
    """Make the evaluations' fixed inputs now (cached per process), so that no run's timing holds them."""
    for name in names:
        evaluation = EVALUATIONS.get(name)
        if evaluation.prepare is not None and evaluation.applies(dataset):
            evaluation.prepare(dataset)


@functools.lru_cache(maxsize=None)  # every run's key asks; the code does not change within a session
def source_hash(names: tuple[str, ...]) -> dict[str, str]:
    """Per evaluation name, a hash of the code that decides its numbers: this module, the module the
    evaluation is defined in, and its `modules`, each as its syntax tree without docstrings."""
    hashes = {}
    for name in names:
        evaluation = EVALUATIONS.get(name)
        modules = dict.fromkeys((__name__, getattr(evaluation.run, "__module__", __name__), *evaluation.modules))
        digest = hashlib.sha256()
        for module in modules:
            digest.update(module_hash(module).encode())
        hashes[name] = digest.hexdigest()[:16]
    return hashes


# --- errors: the test images a model gets wrong (the report's grid of mistakes) ----------------


def _errors(model: keras.Model, dataset: Dataset) -> Outcome:
    """No metric; arrays: the test images `model` gets wrong, as their index in the test set, the
    true and the predicted label, and the confidence of the prediction."""
    from cnn.predict import probabilities

    probs = probabilities(model, dataset.x_test)
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != dataset.y_test)
    return Outcome({}, {"test_index": wrong, "true": np.asarray(dataset.y_test)[wrong], "predicted": predicted[wrong],
                        "confidence": np.round(probs[wrong, predicted[wrong]], 4).astype(np.float32)})


register_evaluation("errors", _errors, modules=("cnn.predict",))


# --- photos: the photo benchmark (cnn.photos.benchmark) read as `cnn predict` reads a photo ---------


_benchmarks: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # (fingerprint, PHOTOS) -> arrays


def photo_benchmark(dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The PHOTOS benchmark photos of `dataset`'s test digits (never its training digits), each
    prepared as `cnn predict` prepares a photo file (cnn.photos.read.read_digit): images (n, 28, 28, 1)
    light on dark in [0, 1], labels (n,), and whether a digit was found (n,) bool; a photo where
    the preparation finds none is a blank image, counted wrong. Made once per process and data
    (by fingerprint: the session's dataset and a worker's copy of it are one). Raises CnnError
    when the dataset's images are not 28x28 grayscale."""
    key = (dataset.fingerprint, PHOTOS)
    if key not in _benchmarks:
        _benchmarks[key] = _make_photo_benchmark(dataset)
    return _benchmarks[key]


def _make_photo_benchmark(dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from cnn.photos.benchmark import make_photos
    from cnn.photos.read import read_digit

    if dataset.x_test.shape[1:] != (28, 28, 1):
        raise CnnError(
            f"the photos evaluation needs 28x28 grayscale digits; {dataset.name} has {dataset.x_test.shape[1:]} images"
        )
    photos = make_photos(dataset.x_test, dataset.y_test, n=PHOTOS, seed=PHOTOS_SEED)
    images = np.zeros((len(photos), 28, 28, 1), np.float32)
    found = np.zeros(len(photos), bool)
    with tempfile.TemporaryDirectory() as folder:  # through a file, as a user's photo: EXIF, JPEG decoding and all
        for i, photo in enumerate(photos):
            path = Path(folder) / photo.name
            path.write_bytes(photo.data)
            try:
                images[i, ..., 0] = read_digit(path).image
                found[i] = True
            except CnnError:
                pass
    return images, np.array([photo.label for photo in photos]), found


def _photos(model: keras.Model, dataset: Dataset) -> Outcome:
    """photo_accuracy: the share of the benchmark photos read right; arrays: the ones read wrong,
    as the model saw them (28x28), with label, prediction (-1: no digit found), confidence and
    the photo's index in the benchmark (`python -m cnn.photos.benchmark` writes it as NNN-label)."""
    from cnn.predict import probabilities

    images, labels, found = photo_benchmark(dataset)
    probs = probabilities(model, images)
    predicted = np.where(found, probs.argmax(axis=1), -1)
    confidence = np.where(found, probs.max(axis=1), 0.0).astype(np.float32)
    wrong = np.flatnonzero(predicted != labels)
    return Outcome({"photo_accuracy": round(1 - len(wrong) / len(labels), 6)}, {
        "images": images[wrong, ..., 0], "labels": labels[wrong], "predicted": predicted[wrong],
        "confidence": confidence[wrong], "index": wrong, "photos": np.asarray(len(labels)),
    })


PHOTO_MODULES = ("cnn.photos.read", "cnn.photos.benchmark", "cnn.predict")
def _digits(dataset: Dataset) -> bool:
    """Whether `dataset` is of the ten digits, 28x28 grayscale (what the photo benchmark renders)."""
    from cnn.data import DIGITS

    return tuple(dataset.class_names or ()) == DIGITS and dataset.x_test.shape[1:] == (28, 28, 1)


register_evaluation("photos", _photos, modules=PHOTO_MODULES, prepare=photo_benchmark, applies_to=_digits,
                    applies_note="datasets of the ten digits, 28x28 grayscale", metrics=[
    Metric("photo_accuracy", "photo accuracy", ".4f", "higher",
           description="share of the photo benchmark read right, each photo prepared as `cnn predict` prepares one"),
])
