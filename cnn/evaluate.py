"""Evaluate a trained (or reloaded) model on a dataset's test set."""

from __future__ import annotations

import warnings

import keras

from cnn.data import Dataset, DatasetWarning
from cnn.errors import CnnError

EVAL_BATCH_SIZE = 512  # evaluation stores no gradients, so larger batches are just faster


def evaluate(model: keras.Model, dataset: Dataset, trained_on: dict | None = None) -> dict[str, float]:
    """Test and train accuracy and loss of `model` on `dataset`. Raises CnnError when the model's
    input shape or class count does not match the data. `trained_on` is the metadata saved with the
    model (cnn.saving.load_metadata); when it names other data than `dataset`, a DatasetWarning says so."""
    expected = tuple(model.inputs[0].shape[1:])
    if expected != dataset.input_shape:
        raise CnnError(
            f"the model takes images of shape {expected} but {dataset.name} has {dataset.input_shape}; "
            "evaluate it on the data it was trained for"
        )
    if model.outputs[0].shape[-1] != dataset.num_classes:
        raise CnnError(
            f"the model predicts {model.outputs[0].shape[-1]} classes but {dataset.name} has {dataset.num_classes}"
        )
    if trained_on and same_dataset(trained_on, dataset) is False:
        theirs = trained_on.get("dataset", "another dataset")
        if theirs == dataset.name:  # the same name, other arrays: an npz file rewritten since
            also = (
                f" (its arrays have changed: fingerprint {trained_on['dataset_fingerprint']} then, "
                f"{dataset.fingerprint} now)"
            )
        else:
            also = ""
        warnings.warn(
            f"the model was trained on {theirs}, not on {dataset.name}{also}; these scores are on data it was "
            f"not trained for (evaluate with --dataset {theirs} for its own test accuracy)",
            DatasetWarning,
            stacklevel=2,
        )
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return measure(model, trained_part(dataset, trained_on))


def trained_part(dataset: Dataset, trained_on: dict | None) -> Dataset:
    """`dataset` with the training images the saved model trained on, where the metadata names this
    data and its config: the validation split held out and the train_fraction subset taken, as
    cnn.train did, so train accuracy is measured on what it trained on. Otherwise `dataset` as is."""
    config = (trained_on or {}).get("config") or {}
    if not config or not same_dataset(trained_on, dataset):
        return dataset
    training, _, _ = dataset.split_validation(float(config.get("validation_fraction") or 0.0))
    return training.subset(float(config.get("train_fraction") or 1.0), seed=int(config.get("seed") or 0))


def same_dataset(trained_on: dict, dataset: Dataset) -> bool | None:
    """Whether the saved metadata `trained_on` names `dataset` (by its fingerprint: equal arrays,
    whatever the name); None when the metadata does not say."""
    fingerprint = trained_on.get("dataset_fingerprint")
    return None if fingerprint is None else fingerprint == dataset.fingerprint


def measure(model: keras.Model, dataset: Dataset) -> dict[str, float]:
    """Accuracy and loss of a compiled model on both splits, in inference mode (dropout off)."""
    test_loss, test_accuracy = model.evaluate(dataset.x_test, dataset.y_test, batch_size=EVAL_BATCH_SIZE, verbose=0)
    train_loss, train_accuracy = model.evaluate(dataset.x_train, dataset.y_train, batch_size=EVAL_BATCH_SIZE, verbose=0)
    return {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "train_accuracy": float(train_accuracy),
        "train_loss": float(train_loss),
        "accuracy_gap": float(train_accuracy - test_accuracy),
        "loss_gap": float(test_loss - train_loss),
    }


def score_rows(scores: dict, train_note: str = "in inference mode") -> list[tuple[str, str]]:
    """The accuracy and loss lines of `cnn train` and `cnn evaluate`, as (name, value): gaps signed,
    with the direction they are taken in."""
    return [
        ("test accuracy", f"{scores['test_accuracy']:.4f}"),
        ("train accuracy", f"{scores['train_accuracy']:.4f}  ({train_note})"),
        ("accuracy gap", f"{scores['accuracy_gap']:+.4f}  (train - test)"),
        ("test loss", f"{scores['test_loss']:.4f}"),
        ("train loss", f"{scores['train_loss']:.4f}"),
        ("loss gap", f"{scores['loss_gap']:+.4f}  (test - train)"),
    ]
