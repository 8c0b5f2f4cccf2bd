"""A depthwise-separable CNN (MobileNet's building block), with its own config field: the width
multiplier, which scales every block's channels."""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from cnn import CnnError, Config, register_model


@dataclass(frozen=True)
class SeparableConfig(Config):
    """The suite's Config plus this model's own fields; they enter the cache key like any other."""

    model: str = "separable"
    width: float = 1.0  # multiplies the channels of every block (MobileNet's alpha)
    blocks: tuple[int, ...] = (16, 32)  # channels of each separable block at width 1

    def __post_init__(self):
        super().__post_init__()
        if not (isinstance(self.width, (int, float)) and 0 < self.width <= 8):
            raise CnnError(f"config field width={self.width!r} is invalid: must be a number in (0, 8]")
        object.__setattr__(self, "width", float(self.width))


@register_model("separable", config=SeparableConfig)  # `cnn train --model separable` takes --width
def build_separable(config: SeparableConfig, input_shape, num_classes) -> keras.Model:
    """Conv 3x3, then per block a depthwise-separable 3x3 conv and 2x2 max pooling;
    flatten; logits."""
    stack = [keras.Input(shape=input_shape), layers.Conv2D(max(1, round(8 * config.width)), 3, activation="relu")]
    for channels in config.blocks:
        stack += [layers.SeparableConv2D(max(1, round(channels * config.width)), 3, padding="same", activation="relu"),
                  layers.MaxPooling2D(2)]
    stack += [layers.Flatten(), layers.Dense(num_classes, name="logits")]
    return keras.Sequential(stack, name="separable")
