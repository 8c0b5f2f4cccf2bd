"""The notebook's family of networks, `model="cnn"` (the default): Conv-Pool blocks (none for an
MLP; 'valid' or 'same' padding, batch norm optional), Flatten, Dense layers with dropout, logits;
a keras.Sequential."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import keras
from keras import layers

from cnn.activations import ACTIVATIONS
from cnn.augment import augmentation_layers
from cnn.errors import CnnError

if TYPE_CHECKING:
    from cnn.config import Config


def check_feature_maps(config: Config, input_shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """The (height, width) after each conv block; raises CnnError when a kernel or pool does not fit."""
    if len(input_shape) != 3 or not all(isinstance(n, numbers.Integral) and n > 0 for n in input_shape):
        raise CnnError(
            f"input shape {tuple(input_shape)} is invalid: images must be (height, width, channels), e.g. 28,28,1"
        )
    height, width = input_shape[:2]
    sizes = []
    for index, _ in enumerate(config.conv_filters):
        if config.conv_padding == "valid":
            if min(height, width) < config.kernel_size:
                raise CnnError(
                    f"config field kernel_size={config.kernel_size} does not fit: conv {index + 1} sees a "
                    f"{height}x{width} feature map; use fewer conv layers, a smaller kernel, less pooling "
                    "or conv_padding='same'"
                )
            height, width = height - config.kernel_size + 1, width - config.kernel_size + 1
        # 'same' pads the edges: the map keeps its size, so any kernel fits (stride 1)
        if config.pool_size and index < len(config.conv_filters) - 1:
            if config.pool_padding == "valid":
                if min(height, width) < config.pool_size:
                    raise CnnError(
                        f"config field pool_size={config.pool_size} is larger than the {height}x{width} feature map "
                        f"after conv {index + 1}; use a smaller pool_size or pool_padding='same'"
                    )
                height, width = height // config.pool_size, width // config.pool_size
            else:
                height, width = -(-height // config.pool_size), -(-width // config.pool_size)
        sizes.append((height, width))
    return sizes


# Registered as model "cnn" in cnn.parts (by name, so a config checks it without Keras).
def build_sequential(config: Config, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """The network `config` describes, for images of `input_shape` (H, W, C); its output is logits.

    Raises CnnError when the config does not fit the input (a kernel or pool larger than a feature map).
    """
    check_feature_maps(config, input_shape)
    activation = ACTIVATIONS.get(config.activation)
    dtype = config.precision
    pool = layers.MaxPooling2D if config.pool_type == "max" else layers.AveragePooling2D
    stack: list = [keras.Input(shape=input_shape)]
    stack += augmentation_layers(config)  # training-only changes to the images (cnn.augment); none by default
    # Layers are named by position (conv1, pool1, dense1, logits): Keras' own names (conv2d_3) depend
    # on what the process built before, and the gradient probe's histories.csv columns use these.
    for index, filters in enumerate(config.conv_filters, start=1):
        if config.batch_norm:
            # The normalisation's shift replaces the conv's bias; the activation comes after it.
            # Momentum 0.9 (PyTorch's default), not Keras' 0.99: the running variance starts at 1
            # while a conv's outputs vary ~0.01, and at 0.99 it still remembers the 1 after the 250
            # steps of a smoke run, so inference mode scored chance while training read 98%.
            stack += [
                layers.Conv2D(filters, config.kernel_size, padding=config.conv_padding, use_bias=False,
                              kernel_initializer=config.initializer, dtype=dtype, name=f"conv{index}"),
                layers.BatchNormalization(momentum=0.9, dtype=dtype, name=f"bn{index}"),
                layers.Activation(activation, dtype=dtype, name=f"act{index}"),
            ]
        else:
            stack.append(
                layers.Conv2D(filters, config.kernel_size, padding=config.conv_padding, activation=activation,
                              kernel_initializer=config.initializer, dtype=dtype, name=f"conv{index}")
            )
        # Pool between convs, not after the last: the notebook's Conv-Pool-Conv-Pool-Conv.
        if config.pool_size and index < len(config.conv_filters):
            stack.append(pool(config.pool_size, padding=config.pool_padding, dtype=dtype, name=f"pool{index}"))
    stack.append(layers.Flatten(dtype=dtype, name="flatten"))
    for index, width in enumerate(config.dense_units, start=1):
        stack.append(layers.Dense(width, activation=activation, kernel_initializer=config.initializer, dtype=dtype,
                                  name=f"dense{index}"))
        if config.dropout:
            stack.append(layers.Dropout(config.dropout, dtype=dtype, name=f"dropout{index}"))
    # Logits stay float32 under mixed precision, so the softmax cross-entropy is computed stably.
    stack.append(layers.Dense(num_classes, kernel_initializer=config.initializer, dtype="float32", name="logits"))
    return keras.Sequential(stack, name="mlp" if config.is_mlp else "cnn")
