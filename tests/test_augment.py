"""cnn.augment: named augmentations, training-only layers, the config field and its flag."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cnn.augment import AUGMENTATIONS, RandomThickness, RandomWarp, augmentation_layers, register_augmentation
from cnn.config import Config, preset
from cnn.errors import CnnError


def run(layers, x, training):
    for layer in layers:
        x = layer(x, training=training)
    return np.asarray(x)


def test_the_names_the_ablation_axis_uses_are_registered():
    assert AUGMENTATIONS.names() == ["thickness", "elastic", "rotation", "zoom", "shift", "noise"]


def test_registering_a_name_twice_fails():
    with pytest.raises(CnnError, match="already registered"):
        register_augmentation("shift")(lambda: [])


@pytest.mark.parametrize("name", AUGMENTATIONS.names())
def test_each_changes_training_images_only(name, tiny):
    x = tiny.x_train[:8]
    layers = augmentation_layers(Config(augmentation=(name,)))
    assert layers and all(layer.name.startswith("augment_") for layer in layers)
    np.testing.assert_array_equal(run(layers, x, training=False), x)  # inference: the image as it is
    changed = run(layers, x, training=True)
    assert changed.shape == x.shape and np.abs(changed - x).mean() > 1e-3
    if name != "noise":
        assert changed.min() >= -1e-6 and changed.max() <= 1 + 1e-6


def test_thickness_thickens_and_thins(tiny):
    x = tiny.x_train[:8]
    thicker = run([RandomThickness(thin=0, thicken=1, seed=1)], x, training=True)
    thinner = run([RandomThickness(thin=1, thicken=0, seed=1)], x, training=True)
    assert thinner.sum() < x.sum() < thicker.sum()


def test_geometric_augmentations_resample_once():
    # Each bilinear resampling blurs: rotation, zoom, shift and elastic become one warp.
    config = Config(augmentation=("shift", "rotation", "zoom", "elastic", "thickness", "noise"))
    kinds = [type(layer).__name__ for layer in augmentation_layers(config)]
    assert kinds == ["RandomThickness", "RandomWarp", "GaussianNoise"]
    [warp] = [layer for layer in augmentation_layers(config) if isinstance(layer, RandomWarp)]
    assert (warp.rotation, warp.zoom, warp.shift, warp.elastic) == (10, 0.1, 2, 1.5)


def test_shift_moves_a_digit_by_at_most_two_pixels(tiny):
    x = tiny.x_train[:32]
    moved = run(augmentation_layers(Config(augmentation=("shift",))), x, training=True)
    rows = np.arange(28)[None, :, None, None]
    drift = (moved * rows).sum((1, 2, 3)) / moved.sum((1, 2, 3)) - (x * rows).sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert np.abs(drift).max() <= 2.2 and np.abs(drift).max() > 0.5


def test_config_validates_and_orders_the_names():
    assert Config(augmentation=["shift", "rotation"]).augmentation == ("rotation", "shift")  # the registry's order
    assert Config(augmentation=("shift", "rotation")) == Config(augmentation=("rotation", "shift"))
    with pytest.raises(CnnError, match="augmentation='blur' is unknown; choose one of: thickness, elastic"):
        Config(augmentation=("blur",))
    with pytest.raises(CnnError, match="each name once"):
        Config(augmentation=("shift", "shift"))
    with pytest.raises(CnnError, match="tuple of names"):
        Config(augmentation="shift")


def test_config_round_trips_through_json():
    config = Config(augmentation=("elastic", "shift"))
    assert Config.from_dict(config.to_dict()) == config
    assert config.to_dict()["augmentation"] == ["elastic", "shift"]
    assert config.key() != Config().key() and "augmentation=elastic-shift" in config.name


def test_train_flag_takes_a_list_of_names():
    from cnn.cli import build_parser

    args = build_parser().parse_args(["train", "--augmentation", "rotation,shift"])
    assert args.field_augmentation == ("rotation", "shift")
    assert build_parser().parse_args(["train", "--augmentation", "none"]).field_augmentation == ()


def test_photo_cnn_preset_augments_for_pen_strokes():
    config = preset("photo-cnn")
    assert {"rotation", "shift", "thickness", "elastic"} <= set(config.augmentation)
    assert dataclasses.replace(config, augmentation=()).augmentation == ()


def test_an_augmented_model_trains_saves_and_reloads(tiny, tiny_config, tmp_path):
    from cnn.saving import load_model, save_model
    from cnn.train import train

    config = dataclasses.replace(
        tiny_config, augmentation=("thickness", "rotation", "shift", "noise"), pipeline="tf.data", batch_size=64
    )
    result = train(config, tiny)
    assert result.status == "ok"
    path = save_model(result.model, tmp_path / "augmented.keras")
    again = load_model(path)
    x = tiny.x_test[:16]
    np.testing.assert_allclose(again.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5)
