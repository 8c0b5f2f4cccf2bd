"""Config: every invalid field is refused up front, with a message naming the field and the value."""

from __future__ import annotations

import dataclasses
import json

import keras
import pytest

from cnn.activations import ACTIVATIONS
from cnn.config import INITIALIZERS, PRESETS, Config, preset
from cnn.errors import CnnError
from cnn.optimizers import OPTIMIZERS, make_optimizer


@pytest.mark.parametrize(
    "field, value",
    [
        ("dropout", 1.5),
        ("dropout", 1.0),  # a rate of 1 drops everything
        ("dropout", -0.1),
        ("dropout", float("nan")),
        ("conv_filters", (32, -64)),
        ("conv_filters", (0,)),
        ("conv_filters", "32,64"),
        ("conv_filters", (32, 2.5)),
        ("dense_units", (-5,)),
        ("kernel_size", 0),
        ("pool_size", -1),
        ("learning_rate", 0),
        ("learning_rate", -0.1),
        ("learning_rate", float("inf")),
        ("learning_rate", "fast"),
        ("epochs", 0),
        ("epochs", 2.5),
        ("batch_size", 0),
        ("train_fraction", 0),
        ("train_fraction", 1.5),
        ("seed", -1),
        # bool is an int subclass in Python; True epochs or a True dropout is a caller's bug.
        ("epochs", True),
        ("dropout", True),
        ("seed", False),
        ("conv_filters", (True, 8)),
        ("batch_norm", 1),  # a flag: true or false, not a count
        ("batch_norm", "yes"),
    ],
)
def test_invalid_field_is_refused_naming_field_and_value(field, value):
    with pytest.raises(CnnError) as error:
        Config(**{field: value})
    message = str(error.value)
    assert f"{field}={value!r}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "field, known",
    [
        ("activation", ACTIVATIONS.names()),
        ("optimizer", OPTIMIZERS.names()),
        ("initializer", INITIALIZERS),
        ("pool_type", ("max", "average")),
        ("pool_padding", ("valid", "same")),
        ("conv_padding", ("valid", "same")),
        ("precision", ("float32", "mixed_bfloat16")),
    ],
)
def test_unknown_name_lists_the_known_ones(field, known):
    with pytest.raises(CnnError, match=f"{field}='nope'") as error:
        Config(**{field: "nope"})
    for name in known:
        assert name in str(error.value)


def test_the_custom_activation_is_a_known_name():
    assert Config(activation="scaled_tanh").activation == "scaled_tanh"


def test_lists_become_tuples_so_configs_stay_hashable():
    config = Config(conv_filters=[4, 8], dense_units=[16])
    assert config.conv_filters == (4, 8) and config.dense_units == (16,)
    assert config == Config(conv_filters=(4, 8), dense_units=(16,))
    assert len({config, Config(conv_filters=(4, 8), dense_units=(16,))}) == 1


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().dropout = 0.5


def test_key_is_equal_for_equal_configs_however_built():
    base = Config()
    same = [
        Config(),
        Config(conv_filters=[32, 64, 64], dense_units=[5000]),
        Config(dropout=0, train_fraction=1),  # ints where floats are expected
        dataclasses.replace(Config(dropout=0.5), dropout=0.0),
        Config.from_dict(json.loads(json.dumps(base.to_dict()))),
    ]
    for config in same:
        assert config == base
        assert config.key() == base.key()
    assert len(base.key()) == 16 and int(base.key(), 16) >= 0


def test_int_fractions_are_stored_as_floats():
    # Dataset.subset reads an int as a count of images: train_fraction=1 must mean "all".
    config = Config(train_fraction=1, dropout=0, learning_rate=1)
    assert type(config.train_fraction) is float and config.train_fraction == 1.0
    assert type(config.dropout) is float and type(config.learning_rate) is float


@pytest.mark.parametrize(
    "changes",
    [
        {"conv_filters": (32, 64)},
        {"kernel_size": 5},
        {"conv_padding": "same"},
        {"batch_norm": True},
        {"activation": "tanh"},
        {"initializer": "he_normal"},
        {"pool_size": 0},
        {"pool_type": "average"},
        {"pool_padding": "same"},
        {"dropout": 0.5},
        {"dense_units": (128,)},
        {"optimizer": "sgd"},
        {"learning_rate": 0.01},
        {"epochs": 1},
        {"batch_size": 64},
        {"train_fraction": 0.5},
        {"augmentation": ("shift",)},
        {"seed": 1},
        {"precision": "mixed_bfloat16"},
        {"pipeline": "tf.data"},
        {"lr_scaling": "sqrt"},
        {"steps_per_execution": 8},
        {"jit_compile": True},
        {"fused_update": True},
        {"model": "key-test-model"},
    ],
)
def test_key_changes_when_any_field_changes(changes):
    from cnn.models import MODELS

    if "key-test-model" not in MODELS:
        MODELS.add("key-test-model", lambda config, shape, classes: None)
    assert dataclasses.replace(Config(), **changes).key() != Config().key()


def test_every_field_is_covered_by_the_key_test():
    # A new Config field must be added to the parametrisation above.
    tested = {
        "conv_filters", "kernel_size", "conv_padding", "batch_norm", "activation", "initializer", "pool_size",
        "pool_type", "pool_padding",
        "dropout", "dense_units", "optimizer", "learning_rate", "epochs", "batch_size", "train_fraction",
        "validation_fraction",
        "augmentation", "seed", "precision", "pipeline", "lr_scaling", "steps_per_execution", "jit_compile", "model",
        "fused_update",
    }
    assert {f.name for f in dataclasses.fields(Config)} == tested


def test_presets_are_named_by_their_preset_name():
    assert preset("seed-cnn").name == "seed-cnn"
    assert preset("seed-mlp").name == "seed-mlp"
    assert Config().name == "seed-cnn"


def test_a_variant_is_named_by_the_fields_it_changes():
    assert Config(dropout=0.5).name == "dropout=0.5"
    assert Config(conv_filters=(4, 8), epochs=3).name == "conv_filters=4-8,epochs=3"
    assert Config(conv_filters=()).name == "conv_filters=none"


@dataclasses.dataclass(frozen=True)
class WidthConfig(Config):
    """A user's subclass, as examples/own-model/separable.py's SeparableConfig: its own fields and defaults."""

    width: float = 1.0
    blocks: tuple[int, ...] = (16, 32)
    epochs: int = 3  # another default than the seed CNN's 9


@dataclasses.dataclass(frozen=True)
class RequiredConfig(Config):
    depth: int = dataclasses.field(kw_only=True)  # no default: every config gives it


def test_a_subclass_is_named_by_the_fields_that_differ_from_its_own_defaults():
    assert WidthConfig().name == ""  # its defaults, not a preset (a preset is a Config)
    assert WidthConfig(width=2.0).name == "width=2.0"
    assert WidthConfig(blocks=(8,), epochs=9).name == "epochs=9,blocks=8"
    assert RequiredConfig(depth=4).name == "depth=4"


def test_seed_presets_match_the_notebook():
    cnn = preset("seed-cnn")
    assert (cnn.conv_filters, cnn.kernel_size, cnn.dense_units, cnn.optimizer) == ((32, 64, 64), 3, (5000,), "adam")
    mlp = preset("seed-mlp")
    assert (mlp.conv_filters, mlp.dense_units, mlp.dropout) == ((), (128,), 0.2)
    assert mlp.is_mlp and not cnn.is_mlp


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(CnnError) as error:
        preset("seed-rnn")
    assert "seed-rnn" in str(error.value)
    for name in PRESETS.names():
        assert name in str(error.value)


def test_from_dict_round_trips_and_refuses_unknown_fields():
    config = Config(conv_filters=(4, 8), dropout=0.25, learning_rate=0.01)
    assert Config.from_dict(config.to_dict()) == config
    with pytest.raises(CnnError, match="dropuot") as error:
        Config.from_dict({"dropuot": 0.5})
    assert str(error.value) == "unknown config field(s) dropuot for Config; did you mean 'dropuot' -> 'dropout'?"
    with pytest.raises(CnnError, match="known: .*dropout"):  # nothing close: the known fields are listed
        Config.from_dict({"zzz": 1})


def test_to_dict_is_plain_json():
    values = Config(conv_filters=(4, 8)).to_dict()
    assert values["conv_filters"] == [4, 8]
    assert json.loads(json.dumps(values, allow_nan=False)) == values


@pytest.mark.parametrize("name, default", [("sgd", 0.01), ("momentum", 0.01), ("adam", 0.001), ("rmsprop", 0.001)])
def test_learning_rate_none_takes_the_optimizers_default(name, default):
    assert float(make_optimizer(name, None).learning_rate) == pytest.approx(default)
    assert float(make_optimizer(name, 0.5).learning_rate) == pytest.approx(0.5)


def test_learning_rate_scales_with_the_batch_by_the_stated_rule():
    assert Config(batch_size=256).effective_learning_rate == pytest.approx(0.001)  # no scaling by default
    assert Config(batch_size=256, lr_scaling="sqrt").effective_learning_rate == pytest.approx(0.001 * 8**0.5)
    assert Config(batch_size=64, lr_scaling="linear", optimizer="sgd").effective_learning_rate == pytest.approx(0.02)
    assert Config(batch_size=32, lr_scaling="sqrt", learning_rate=0.5).effective_learning_rate == pytest.approx(0.5)


@pytest.mark.parametrize("field, value", [("pipeline", "dask"), ("lr_scaling", "cubic"),
                                          ("steps_per_execution", 0), ("jit_compile", "yes"),
                                          ("fused_update", 1)])
def test_fast_path_fields_are_validated(field, value):
    with pytest.raises(CnnError, match=field):
        Config(**{field: value})


def test_fused_adam_takes_the_same_steps_as_keras_adam():
    """The fused kernel is a speed lever only: ten steps from the same start land on the same weights."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    start = rng.normal(size=(7, 5)).astype(np.float32)
    gradients = [tf.constant(rng.normal(size=(7, 5)).astype(np.float32)) for _ in range(10)]

    def final_weights(fused):
        weights = keras.Variable(start)
        optimizer = make_optimizer("adam", 0.01, fused=fused)

        @tf.function
        def step(gradient):
            optimizer.apply_gradients([(gradient, weights)])

        for gradient in gradients:
            step(gradient)
        return weights.numpy()

    finals = {fused: final_weights(fused) for fused in (False, True)}
    assert type(make_optimizer("adam", 0.01, fused=True)).__name__ == "FusedAdam"
    assert not np.allclose(finals[False], start)  # it moved
    np.testing.assert_allclose(finals[True], finals[False], rtol=1e-5, atol=1e-6)


def test_fused_update_is_ignored_by_optimizers_without_one():
    # A recipe asks for it on every variant of the optimizer axis; SGD keeps Keras' own update.
    assert type(make_optimizer("sgd", 0.01, fused=True)) is keras.optimizers.SGD
    assert Config(optimizer="sgd", fused_update=True).optimizer == "sgd"


def test_importing_the_config_starts_neither_tensorflow_nor_keras():
    # The names a config checks live in cnn.parts; a user's tools and the CLI's help stay cheap.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import cnn.config, sys; cnn.config.preset('photo-cnn'); "
        "cnn.config.Config(optimizer='sgd').effective_learning_rate; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'loaded'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("field, value, names", [("activation", "relu6", "scaled_tanh"), ("model", "resnet", "cnn"),
                                                 ("optimizer", "lion", "rmsprop")])
def test_a_lazily_registered_name_is_checked_as_before(field, value, names):
    with pytest.raises(CnnError, match=rf"config field {field}='{value}' is unknown; choose one of: .*{names}"):
        Config(**{field: value})
