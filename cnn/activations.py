"""Activations by name. A custom one is a decorated function; saved models that use it reload."""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops

from cnn.registry import Registry

ACTIVATIONS: Registry[Callable] = Registry("activation")


def register_activation(name: str) -> Callable[[Callable], Callable]:
    """Register `fn` under `name` for configs, and with Keras so a saved model that uses it reloads."""

    def add(fn: Callable) -> Callable:
        serializable = keras.saving.register_keras_serializable(package="cnn", name=name)(fn)
        ACTIVATIONS.add(name, serializable)
        return serializable

    return add


for _name, _fn in {
    "none": keras.activations.linear,  # no non-linearity: the notebook's "what if there is none"
    "linear": keras.activations.linear,
    "relu": keras.activations.relu,
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
}.items():
    ACTIVATIONS.add(_name, _fn)


@register_activation("scaled_tanh")
def scaled_tanh(x):
    """LeCun's 1.7159 * tanh(2x/3) (Efficient BackProp, 1998): the notebook's custom activation."""
    return 1.7159 * ops.tanh(x * (2.0 / 3.0))
