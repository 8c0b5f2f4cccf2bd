"""Models by name: `Config.model` picks a registered builder, `build(config, input_shape,
num_classes) -> keras.Model` returning logits. The notebook's family is "cnn" (cnn.models.sequential);
register your own with `@register_model("name")` and use a Config subclass for its own fields.
The names live Keras-free in cnn.parts; this package builds and measures (it imports Keras).
"""

from __future__ import annotations

import numbers
import re

import keras
from keras import layers

from cnn.activations import ACTIVATIONS, register_activation  # noqa: F401  (re-exported)
from cnn.errors import CnnError
from cnn.models.sequential import check_feature_maps  # noqa: F401  (re-exported)
from cnn.parts import MODELS, register_model  # noqa: F401  (re-exported)
from cnn.source import meaning_hash, module_hash


def build_model(config, input_shape: tuple[int, ...], num_classes: int) -> keras.Model:
    """The network `config` describes (its `model` builder), for images of `input_shape`; logits out.

    Raises CnnError when the config does not fit the input, for any builder: a Keras shape error
    from inside a user's builder becomes one line naming the model and the input shape."""
    if not (isinstance(num_classes, numbers.Integral) and num_classes >= 1):
        raise CnnError(f"the number of classes must be a positive integer, not {num_classes!r}")
    builder = MODELS.get(config.model)
    try:
        model = builder(config, tuple(input_shape), int(num_classes))
    except CnnError:
        raise
    except (ValueError, TypeError) as error:
        raise CnnError(
            f"model {config.model!r} cannot be built for input shape {tuple(input_shape)}: {_cause(error)}"
        ) from None
    if not isinstance(model, keras.Model):
        raise CnnError(f"model builder {config.model!r} returned {type(model).__name__}, not a keras.Model")
    return model


_LAYER_CALL = re.compile(r"Exception encountered when calling (?:layer )?'?(\w+)'?.*")
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # Keras colours the cause in bold


def _cause(error: BaseException) -> str:
    """One line saying why a model could not be built. Keras wraps a layer's error as "Exception
    encountered when calling Reshape.call()." with the real reason on later lines and in the
    chained exception: give that reason, with the layer it came from."""
    layer = None
    while True:
        lines = [_ESCAPES.sub("", line).strip() for line in str(error).splitlines()]
        lines = [line for line in lines if line]
        if lines and _LAYER_CALL.match(lines[0]):
            layer = layer or _LAYER_CALL.match(lines[0]).group(1).split(".")[0]
            inner = error.__cause__ or error.__context__
            if inner is not None and str(inner).strip():
                error = inner
                continue
            lines = [line for line in lines[1:] if not line.startswith(("Arguments received", "•"))]
        reason = lines[0] if lines else type(error).__name__
        return f"{layer}: {reason}" if layer else reason


def builder_source_hash(name: str) -> str:
    """A hash of the meaning of the module that defines the model builder `name` (cnn.source, as
    the cache hashes its own modules): editing your own model's code retrains it, its comments and
    docstrings do not. Raises CnnError for an unknown model."""
    try:
        return module_hash(MODELS.module(name))
    except CnnError:
        if name not in MODELS:
            raise
        return meaning_hash("")  # defined interactively: no file to read


def forward_flops(model: keras.Model) -> int:
    """Floating-point operations of one forward pass for one sample: 2 per multiply-add in every
    convolution (plain, depthwise, separable, 1-3D) and dense layer, nested models included.
    Activations, pooling, normalisation, adds and biases are a rounding error next to them.
    A training step costs about 3x this (forward, and backward for inputs and weights)."""
    return int(sum(_layer_flops(layer) for layer in _leaves(model)))


def _leaves(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:  # a nested Sequential/Functional model
            yield from _leaves(layer)
        else:
            yield layer


def _layer_flops(layer) -> int:
    def size(shape) -> int:
        total = 1
        for n in shape[1:]:
            total *= int(n)
        return total

    if isinstance(layer, layers.Dense):
        return 2 * int(layer.input.shape[-1]) * layer.units * size(layer.output.shape[:-1])
    if isinstance(layer, layers.SeparableConv2D):  # depthwise then 1x1 pointwise
        in_channels = int(layer.input.shape[-1])
        window = int(layer.kernel_size[0] * layer.kernel_size[1])
        positions = size(layer.output.shape[:-1])
        depth = in_channels * layer.depth_multiplier
        return 2 * positions * (window * depth + depth * layer.filters)
    if isinstance(layer, layers.DepthwiseConv2D):
        window = int(layer.kernel_size[0] * layer.kernel_size[1])
        return 2 * window * size(layer.output.shape)
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        window = 1
        for k in layer.kernel_size:
            window *= int(k)
        in_channels = int(layer.input.shape[-1]) // max(1, getattr(layer, "groups", 1))
        return 2 * window * in_channels * size(layer.output.shape)
    return 0
