"""The model builders, found by name (`Config.model`). Keras-free, so the config can validate the
name without building anything."""

from __future__ import annotations

from typing import Callable

from cnn.registry import Registry

# build(config, input_shape (H, W, C), num_classes) -> keras.Model whose output is logits.
MODELS: Registry[Callable] = Registry("model")


def register_model(name: str) -> Callable:
    """Decorator: `@register_model("resnet-tiny")` over `build(config, input_shape, num_classes)`."""
    return MODELS.register(name)
