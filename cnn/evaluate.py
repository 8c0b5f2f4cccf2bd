"""Evaluate a trained (or reloaded) model on a dataset's test set."""

from __future__ import annotations

import keras

from cnn.data import Dataset
from cnn.errors import CnnError

EVAL_BATCH_SIZE = 512  # evaluation stores no gradients, so larger batches are just faster


def evaluate(model: keras.Model, dataset: Dataset) -> dict[str, float]:
    """Test and train accuracy and loss of `model` on `dataset`. Raises CnnError when the model's
    input shape or class count does not match the data."""
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
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return measure(model, dataset)


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
