"""Model building: the notebook's networks layer for layer, and configs that cannot fit the input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from cnn.activations import ACTIVATIONS, register_activation, scaled_tanh
from cnn.config import Config, preset
from cnn.errors import CnnError
from cnn.models import build_model, check_feature_maps, forward_flops

MNIST = (28, 28, 1)
SMALL_HEAD = {"dense_units": (16,)}  # the conv part is what these tests look at; Dense 5000 is slow to build


def describe(model: keras.Model) -> list[tuple]:
    """Each layer as (type, its defining number): filters, units, pool size or dropout rate."""
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        number = {
            "Conv2D": lambda layer=layer: layer.filters,
            "Dense": lambda layer=layer: layer.units,
            "Dropout": lambda layer=layer: layer.rate,
            "MaxPooling2D": lambda layer=layer: layer.pool_size[0],
            "AveragePooling2D": lambda layer=layer: layer.pool_size[0],
        }.get(kind, lambda: None)()
        rows.append((kind, number))
    return rows


def test_seed_cnn_is_the_notebooks_network():
    model = build_model(preset("seed-cnn"), MNIST, 10)
    assert describe(model) == [
        ("Conv2D", 32), ("MaxPooling2D", 2), ("Conv2D", 64), ("MaxPooling2D", 2), ("Conv2D", 64),
        ("Flatten", None), ("Dense", 5000), ("Dense", 10),
    ]
    assert model.count_params() == 2_990_754
    assert model.layers[-1].activation is keras.activations.linear  # logits: the loss applies softmax
    assert model.layers[0].kernel_size == (3, 3)


def test_seed_cnn_flops():
    # conv 0.39M + 4.46M + 0.66M, dense 5.76M + 0.10M multiply-adds x 2
    assert forward_flops(build_model(preset("seed-cnn"), MNIST, 10)) == 11_373_472


def test_seed_mlp_is_the_notebooks_network():
    model = build_model(preset("seed-mlp"), MNIST, 10)
    assert describe(model) == [("Flatten", None), ("Dense", 128), ("Dropout", 0.2), ("Dense", 10)]
    assert model.count_params() == 784 * 128 + 128 + 128 * 10 + 10
    assert forward_flops(model) == 2 * (784 * 128 + 128 * 10)


def test_average_pooling():
    model = build_model(Config(pool_type="average", **SMALL_HEAD), MNIST, 10)
    assert [kind for kind, _ in describe(model)].count("AveragePooling2D") == 2
    assert not any(isinstance(layer, layers.MaxPooling2D) for layer in model.layers)


def test_same_padding_keeps_the_odd_row():
    valid = build_model(Config(**SMALL_HEAD), MNIST, 10)
    same = build_model(Config(pool_padding="same", **SMALL_HEAD), MNIST, 10)
    # 11x11 pooled to 5x5 (valid) or 6x6 (same), so the last conv sees more and Flatten grows
    assert valid.layers[3].output.shape[1:3] == (5, 5)
    assert same.layers[3].output.shape[1:3] == (6, 6)
    assert same.count_params() > valid.count_params()


def test_no_pooling():
    model = build_model(Config(pool_size=0, **SMALL_HEAD), MNIST, 10)
    assert [kind for kind, _ in describe(model)][:3] == ["Conv2D", "Conv2D", "Conv2D"]
    assert model.layers[2].output.shape[1:3] == (22, 22)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"pool_padding": "same"},
        {"pool_size": 0},
        {"pool_size": 3, "conv_filters": (8, 8)},
        {"kernel_size": 5, "conv_filters": (8, 8)},
        {"conv_filters": (4,)},
        {"conv_padding": "same"},
        {"conv_padding": "same", "conv_filters": (4, 4, 4, 4)},
        {"conv_padding": "same", "kernel_size": 5, "pool_size": 3},
        {"batch_norm": True},
    ],
)
def test_feature_map_check_agrees_with_keras(changes):
    config = Config(**SMALL_HEAD, **changes)
    model = build_model(config, MNIST, 10)
    # Each conv block runs from its conv to the layer before the next conv (or Flatten).
    block_sizes = []
    for index, layer in enumerate(model.layers):
        if isinstance(layer, layers.Conv2D | layers.Flatten) and index > 0:
            block_sizes.append(tuple(model.layers[index - 1].output.shape[1:3]))
    assert check_feature_maps(config, MNIST) == block_sizes


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"pool_size": 27}, "pool_size=27 is larger than the 26x26 feature map"),
        ({"kernel_size": 30}, "kernel_size=30 does not fit"),
        ({"conv_filters": (4, 4, 4, 4)}, "conv 4 sees a 1x1 feature map"),
    ],
)
def test_config_that_does_not_fit_the_input_is_refused(changes, fragment):
    with pytest.raises(CnnError, match=fragment):
        build_model(Config(**changes), MNIST, 10)


def test_same_conv_padding_keeps_the_edges():
    valid = build_model(Config(conv_filters=(4, 8), **SMALL_HEAD), MNIST, 10)
    same = build_model(Config(conv_filters=(4, 8), conv_padding="same", **SMALL_HEAD), MNIST, 10)
    assert valid.get_layer("conv1").output.shape[1:3] == (26, 26)  # the notebook's: a pixel lost at each edge
    assert same.get_layer("conv1").output.shape[1:3] == (28, 28)
    assert same.get_layer("conv2").output.shape[1:3] == (14, 14)


def test_four_blocks_fit_a_digit_only_with_same_padding():
    with pytest.raises(CnnError, match="conv 4 sees a 1x1 feature map.*conv_padding='same'"):
        build_model(Config(conv_filters=(4, 4, 4, 4), **SMALL_HEAD), MNIST, 10)
    model = build_model(Config(conv_filters=(4, 4, 4, 4), conv_padding="same", **SMALL_HEAD), MNIST, 10)
    assert model.get_layer("conv4").output.shape[1:3] == (3, 3)


def test_batch_norm_sits_between_each_conv_and_its_activation():
    model = build_model(Config(conv_filters=(4, 8), batch_norm=True, **SMALL_HEAD), MNIST, 10)
    assert describe(model) == [
        ("Conv2D", 4), ("BatchNormalization", None), ("Activation", None), ("MaxPooling2D", 2),
        ("Conv2D", 8), ("BatchNormalization", None), ("Activation", None),
        ("Flatten", None), ("Dense", 16), ("Dense", 10),
    ]
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    # The conv is linear and bias-free (batch norm's shift is the bias); the activation follows the norm.
    assert all(conv.activation is keras.activations.linear and not conv.use_bias for conv in convs)
    assert model.get_layer("act1").activation is ACTIVATIONS.get("relu")
    assert model.get_layer("dense1").activation is ACTIVATIONS.get("relu")
    # Inference uses the running statistics, which must forget their start (variance 1) within a short run.
    assert model.get_layer("bn1").momentum == 0.9


def test_layers_are_named_by_position_in_any_process_state():
    build_model(Config(conv_filters=(4,), **SMALL_HEAD), MNIST, 10)  # Keras would number the next ones conv2d_1, ...
    model = build_model(Config(conv_filters=(4, 8, 8), dropout=0.5, **SMALL_HEAD), MNIST, 10)
    assert [layer.name for layer in model.layers] == [
        "conv1", "pool1", "conv2", "pool2", "conv3", "flatten", "dense1", "dropout1", "logits"]
    mlp = build_model(preset("seed-mlp"), MNIST, 10)
    assert [layer.name for layer in mlp.layers] == ["flatten", "dense1", "dropout1", "logits"]


def test_same_padding_lets_a_large_pool_fit():
    model = build_model(Config(conv_filters=(4, 4), kernel_size=1, pool_size=40, pool_padding="same"), MNIST, 10)
    assert model.layers[1].output.shape[1:3] == (1, 1)


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1, 1), (0, 28, 1)])
def test_bad_input_shape_is_refused(shape):
    with pytest.raises(CnnError, match="input shape"):
        build_model(Config(), shape, 10)


def test_bad_class_count_is_refused():
    with pytest.raises(CnnError, match="classes"):
        build_model(Config(conv_filters=(4,), dense_units=(8,)), MNIST, 0)


def test_logits_stay_float32_under_mixed_precision():
    model = build_model(Config(conv_filters=(4, 8), dense_units=(16,), precision="mixed_bfloat16"), MNIST, 10)
    assert model.layers[0].compute_dtype == "bfloat16"
    assert model.layers[-1].compute_dtype == "float32"
    assert model(np.zeros((2, *MNIST), np.float32)).dtype == "float32"


def test_custom_activation_is_used():
    model = build_model(Config(conv_filters=(4,), dense_units=(8,), activation="scaled_tanh"), MNIST, 10)
    hidden = [layer for layer in model.layers if isinstance(layer, layers.Conv2D | layers.Dense)][:-1]
    assert hidden and all(layer.activation is ACTIVATIONS.get("scaled_tanh") for layer in hidden)
    # LeCun's choice: f(1) = 1 and the output saturates at +-1.7159
    assert float(scaled_tanh(keras.ops.convert_to_tensor(1.0))) == pytest.approx(1.0, abs=2e-3)
    assert float(scaled_tanh(keras.ops.convert_to_tensor(50.0))) == pytest.approx(1.7159)


@pytest.fixture(scope="session")
def halved_relu():
    """A user's own activation, registered once per test session (names cannot be registered twice)."""

    @register_activation("halved_relu_for_tests")
    def halved_relu(x):
        return 0.5 * keras.ops.relu(x)

    return halved_relu


def test_registered_activation_can_be_configured(halved_relu):
    model = build_model(Config(conv_filters=(), dense_units=(8,), activation="halved_relu_for_tests"), MNIST, 10)
    assert model.layers[1].activation is halved_relu
    with pytest.raises(CnnError, match="already registered"):
        register_activation("halved_relu_for_tests")(lambda x: x)


def test_input_shape_comes_from_the_data():
    model = build_model(Config(conv_filters=(4, 8), dense_units=(16,)), (32, 32, 3), 5)
    assert tuple(model.inputs[0].shape) == (None, 32, 32, 3)
    assert model(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 5)


# --- your own model ---------------------------------------------------------------------------


def separable_cnn(config, input_shape, num_classes):
    import keras
    from keras import layers

    return keras.Sequential([keras.Input(shape=input_shape), layers.SeparableConv2D(8, 3, activation="relu"),
                             layers.GlobalAveragePooling2D(), layers.Dense(num_classes)])


def test_an_own_model_is_built_by_name_and_its_flops_counted():
    from cnn.models import MODELS

    if "separable-test" not in MODELS:
        MODELS.add("separable-test", separable_cnn)
    model = build_model(Config(model="separable-test"), (28, 28, 1), 10)
    assert model.outputs[0].shape[-1] == 10
    # depthwise 3x3 on 1 channel over 26x26, then 1x1 to 8 channels, then Dense 8 -> 10; 2 FLOPs a multiply-add.
    assert forward_flops(model) == 2 * 26 * 26 * (9 * 1 + 1 * 8) + 2 * 8 * 10


def test_an_own_model_that_does_not_fit_the_input_is_one_line():
    from cnn.models import MODELS

    def too_big(config, input_shape, num_classes):
        import keras
        from keras import layers

        return keras.Sequential(
            [keras.Input(shape=input_shape), layers.Conv2D(4, 40), layers.Flatten(), layers.Dense(num_classes)]
        )

    if "too-big-test" not in MODELS:
        MODELS.add("too-big-test", too_big)
    with pytest.raises(CnnError, match=r"model 'too-big-test' cannot be built for input shape \(28, 28, 1\)"):
        build_model(Config(model="too-big-test"), (28, 28, 1), 10)


def test_a_keras_shape_error_keeps_its_cause_in_the_one_line():
    # Keras' own first line is "Exception encountered when calling Reshape.call()."; the reason
    # is on a later line, in bold, and in the chained exception.
    from cnn.models import MODELS

    def bad_reshape(config, input_shape, num_classes):
        import keras
        from keras import layers

        return keras.Sequential([keras.Input(shape=input_shape), layers.Reshape((5, 5)), layers.Flatten(),
                                 layers.Dense(num_classes)])

    if "bad-reshape-test" not in MODELS:
        MODELS.add("bad-reshape-test", bad_reshape)
    with pytest.raises(CnnError) as error:
        build_model(Config(model="bad-reshape-test"), (28, 28, 1), 10)
    assert str(error.value) == (
        "model 'bad-reshape-test' cannot be built for input shape (28, 28, 1): Reshape: The total size of the "
        "tensor must be unchanged. Received: input_shape=(28, 28, 1), target_shape=(5, 5)"
    )


def test_an_unknown_model_lists_the_known_ones():
    with pytest.raises(CnnError, match="config field model='nope' is unknown; choose one of: cnn"):
        Config(model="nope")


def test_editing_an_own_builder_changes_the_cache_key(monkeypatch, tmp_path):
    from cnn import source
    from cnn.ablate.cache import run_key
    from cnn.models import MODELS

    if "separable-test" not in MODELS:
        MODELS.add("separable-test", separable_cnn)
    config = Config(model="separable-test")
    before = run_key(config, "fp", "cpu", {})
    # This file, the builder's module, as the hash reads it (cnn.source), edited in a copy.
    copy, real = tmp_path / "edited.py", source.module_path
    monkeypatch.setattr(source, "module_path", lambda name: copy if name == __name__ else real(name))
    text = real(__name__).read_text()
    copy.write_text(text.replace('"""Model building:', '"""Building models:', 1))  # the docstring: the same meaning
    assert run_key(config, "fp", "cpu", {}) == before
    copy.write_text(text.replace("layers.SeparableConv2D(8, 3", "layers.SeparableConv2D(16, 3", 1))  # the builder
    assert run_key(config, "fp", "cpu", {}) != before


def test_a_models_config_class_must_be_a_config():
    from cnn.parts import MODELS, register_model

    with pytest.raises(
        CnnError, match="model 'not-a-config-test': config=<class 'dict'> must be a subclass of cnn.config.Config"
    ):
        register_model("not-a-config-test", config=dict)(separable_cnn)
    assert "not-a-config-test" not in MODELS
