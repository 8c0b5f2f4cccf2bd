"""Optimizers by name, each with the learning rate it uses when the config gives none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras

from cnn.registry import Registry


@dataclass(frozen=True)
class OptimizerSpec:
    make: Callable[[float], keras.optimizers.Optimizer]
    default_learning_rate: float


OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")

# The notebook's list. Default rates are Keras' own, except SGD's 0.01 as the notebook uses it.
OPTIMIZERS.add("sgd", OptimizerSpec(lambda lr: keras.optimizers.SGD(lr), 0.01))
OPTIMIZERS.add("momentum", OptimizerSpec(lambda lr: keras.optimizers.SGD(lr, momentum=0.9), 0.01))
OPTIMIZERS.add("adam", OptimizerSpec(lambda lr: keras.optimizers.Adam(lr), 0.001))
OPTIMIZERS.add("adagrad", OptimizerSpec(lambda lr: keras.optimizers.Adagrad(lr), 0.001))
OPTIMIZERS.add("adamax", OptimizerSpec(lambda lr: keras.optimizers.Adamax(lr), 0.001))
OPTIMIZERS.add("rmsprop", OptimizerSpec(lambda lr: keras.optimizers.RMSprop(lr), 0.001))


def make_optimizer(name: str, learning_rate: float | None) -> keras.optimizers.Optimizer:
    """A fresh optimizer; `learning_rate=None` takes the optimizer's default rate."""
    spec = OPTIMIZERS.get(name)
    return spec.make(spec.default_learning_rate if learning_rate is None else learning_rate)
