"""Activations by name (the names live Keras-free in cnn.parts). A custom one is a decorated
function; saved models that use it reload."""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops

from cnn.parts import ACTIVATIONS  # noqa: F401  (re-exported)


def register_activation(name: str) -> Callable[[Callable], Callable]:
    """Register `fn` under `name` for configs, and with Keras so a saved model that uses it reloads."""

    def add(fn: Callable) -> Callable:
        serializable = keras.saving.register_keras_serializable(package="cnn", name=name)(fn)
        ACTIVATIONS.add(name, serializable)
        return serializable

    return add


# Registered by name in cnn.parts; here with Keras, so that a saved model using it reloads.
@keras.saving.register_keras_serializable(package="cnn", name="scaled_tanh")
def scaled_tanh(x):
    """LeCun's 1.7159 * tanh(2x/3) (Efficient BackProp, 1998): the notebook's custom activation."""
    return 1.7159 * ops.tanh(x * (2.0 / 3.0))
