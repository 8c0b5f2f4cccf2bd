"""Training: the figures a RunResult reports are finite, consistent and reproducible."""

from __future__ import annotations

import dataclasses
import json
import math
import time
import types

import keras
import numpy as np
import pytest

from cnn import runtime
from cnn.config import Config
from cnn.data import Dataset
from cnn.errors import CnnError
from cnn.models import build_model
from cnn.results import tables
from cnn.train import (
    PROBE_IMAGES,
    TRAIN_FIT_IMAGES,
    AccuracyClock,
    EpochTimer,
    GradientProbe,
    RunResult,
    fit_inputs,
    train,
    update_ratio,
)

METRICS = ("train_accuracy", "train_loss", "test_accuracy", "test_loss", "accuracy_gap", "loss_gap",
           "first_epoch_s", "steady_epoch_s", "samples_per_s", "fit_s")


@pytest.fixture(scope="module")
def one_epoch(tiny, tiny_config) -> RunResult:
    return train(tiny_config, tiny)


def test_one_epoch_run_reports_finite_metrics(one_epoch, tiny):
    result = one_epoch
    assert result.status == "ok" and result.diverged_epoch is None
    assert result.epochs_run == 1
    for name in METRICS:
        assert math.isfinite(getattr(result, name)), name
    assert 0 <= result.test_accuracy <= 1 and 0 <= result.train_accuracy <= 1
    # 10% of the 300 training images held out for validation (Config.validation_fraction).
    assert result.n_train == 270 and result.n_val == 30 and result.n_test == 200
    assert result.dataset == "mnist-tiny" and result.dataset_fingerprint == tiny.fingerprint


def test_metrics_are_consistent(one_epoch):
    result = one_epoch
    assert result.accuracy_gap == pytest.approx(result.train_accuracy - result.test_accuracy)
    assert result.loss_gap == pytest.approx(result.test_loss - result.train_loss)
    assert result.samples_per_s == pytest.approx(result.n_train / result.steady_epoch_s)
    # With one epoch there are no steady epochs: the first stands in, and fit adds validation.
    assert result.steady_epoch_s == result.first_epoch_s <= result.fit_s
    assert result.params == result.model.count_params()
    assert result.flops_per_sample > 0


def test_validation_is_a_fixed_stratified_split_of_the_training_set_not_the_test_set(one_epoch, tiny):
    training, x_val, y_val = tiny.split_validation(0.1)
    assert len(y_val) == 30 and len(training.y_train) == 270 and training.x_test is tiny.x_test
    assert np.bincount(y_val, minlength=10).tolist() == [3] * 10  # stratified: 3 of each class
    again = tiny.split_validation(0.1)[2]
    assert np.array_equal(again, y_val)  # the same images every call, whatever the run's seed
    # The last val_accuracy is the final model's on the split; the test set is read once, at the end.
    logits = one_epoch.model.predict(x_val, verbose=0)
    assert one_epoch.history["val_accuracy"][-1] == pytest.approx(float((logits.argmax(-1) == y_val).mean()))


def test_validation_fraction_0_validates_on_the_test_set_as_the_notebook(tiny, tiny_config):
    result = train(dataclasses.replace(tiny_config, validation_fraction=0.0), tiny)
    assert result.n_train == 300 and result.n_val == 0
    # Both are measured in inference mode on the same weights and test set.
    assert result.test_accuracy == pytest.approx(result.history["val_accuracy"][-1])


def test_each_epoch_measures_train_accuracy_in_inference_mode_outside_the_clock(one_epoch, tiny):
    """train_fit_accuracy is what the final train accuracy is (dropout off, the epoch's end weights),
    on the first TRAIN_FIT_IMAGES training images: not Keras' running average."""
    training = tiny.split_validation(0.1)[0]
    x, y = training.x_train[:TRAIN_FIT_IMAGES], training.y_train[:TRAIN_FIT_IMAGES]
    _, accuracy = one_epoch.model.evaluate(x, y, verbose=0)
    assert one_epoch.history["train_fit_accuracy"] == [pytest.approx(accuracy)]
    assert len(one_epoch.history["train_fit_loss"]) == 1


def test_a_run_records_the_cpu_it_and_others_used(one_epoch):
    assert one_epoch.cpu_s > 0 and one_epoch.load_avg is not None
    if one_epoch.others_cpu_s is not None:  # Linux: /proc/stat
        assert one_epoch.others_cpu_s >= 0 and isinstance(one_epoch.contended, bool)
        assert one_epoch.contended == (one_epoch.others_cpu_s / one_epoch.fit_s > runtime.CONTENDED_CORES)


def test_history_has_one_entry_per_epoch(one_epoch):
    history = one_epoch.history
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_s"}
    assert all(len(values) == 1 for values in history.values())
    assert history["epoch_s"][0] == one_epoch.first_epoch_s


def test_to_dict_is_json_ready(one_epoch):
    values = one_epoch.to_dict()
    assert "model" not in values
    assert values["config"] == one_epoch.config.to_dict()
    assert values["config_key"] == one_epoch.config.key()
    assert set(values["versions"]) >= {"tensorflow", "keras", "numpy", "python"}
    assert json.loads(json.dumps(values, allow_nan=False))["test_accuracy"] == one_epoch.test_accuracy


def test_metrics_table_names_the_figures(one_epoch):
    table = one_epoch.metrics_table()
    for label in ("test accuracy", "train accuracy", "accuracy gap", "throughput", "parameters"):
        assert label in table


def test_learns_above_chance(tiny, tiny_config):
    result = train(dataclasses.replace(tiny_config, epochs=3), tiny)
    assert result.test_accuracy > 0.25  # chance is 0.10
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert len(result.history["epoch_s"]) == 3
    # The first epoch includes tracing; the steady figure is the median of the others.
    assert result.steady_epoch_s == pytest.approx(float(np.median(result.history["epoch_s"][1:])))


def test_same_config_and_seed_give_identical_runs(one_epoch, tiny, tiny_config):
    again = train(tiny_config, tiny)
    for name in ("train_accuracy", "train_loss", "test_accuracy", "test_loss"):
        assert getattr(again, name) == getattr(one_epoch, name), name
    for first, second in zip(one_epoch.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(first, second)


def test_another_seed_gives_another_run(one_epoch, tiny, tiny_config):
    other = train(dataclasses.replace(tiny_config, seed=1), tiny)
    assert not np.array_equal(other.model.get_weights()[0], one_epoch.model.get_weights()[0])
    assert other.test_loss != one_epoch.test_loss


def test_train_fraction_trains_on_a_stratified_share(tiny, tiny_config):
    result = train(dataclasses.replace(tiny_config, train_fraction=0.5), tiny)
    assert result.n_train == 135 and result.n_test == 200  # half of the 270 left after validation
    assert result.dataset == "mnist-tiny"  # the dataset named, not the subset's internal name


@pytest.mark.parametrize(
    "activation, learning_rate, blow_up",
    [
        ("relu", 1e8, math.isnan),  # weights overflow to inf, then inf - inf gives NaN
        ("sigmoid", 1e37, math.isinf),  # sigmoid bounds the activations: only the logits overflow
    ],
)
def test_divergence_is_recorded_not_raised(tiny, tiny_config, activation, learning_rate, blow_up):
    config = dataclasses.replace(
        tiny_config, activation=activation, optimizer="sgd", learning_rate=learning_rate, epochs=3
    )
    result = train(config, tiny)
    assert result.status == "diverged" and result.diverged_epoch == 1
    assert result.epochs_run == 1  # TerminateOnNaN stops it: no point training on NaN weights
    assert blow_up(result.history["loss"][0])
    values = result.to_dict()
    json.dumps(values, allow_nan=False)  # JSON has no NaN: the blown-up figures become null
    assert values["history"]["loss"] == [None]
    assert values["status"] == "diverged"
    assert "diverged at epoch 1" in result.metrics_table()


def test_config_that_does_not_fit_the_images_is_refused_before_training():
    x, y = np.zeros((20, 8, 8), np.float32), np.arange(20) % 10
    small_images = Dataset.from_arrays("8x8", x, y, x, y)
    with pytest.raises(CnnError, match="pool_size=2 is larger than the 1x1 feature map"):
        train(Config(conv_filters=(4, 4, 4), dense_units=(8,), epochs=1), small_images)


def test_colour_images_train(tiny_config):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 32, 32, 3), dtype=np.float32), np.arange(40) % 4
    result = train(tiny_config, Dataset.from_arrays("rgb", x, y, x[:8], y[:8]))
    assert result.status == "ok"
    assert tuple(result.model.inputs[0].shape) == (None, 32, 32, 3)
    assert result.model.outputs[0].shape[-1] == 4


def test_tf_data_pipeline_repeats_and_trains_whole_batches(tiny, tiny_config):
    # One iterator for the whole run (a fresh one per epoch stalls the first step), and an epoch of
    # ceil(300 / 64) = 5 whole batches: 320 images, which samples/s counts.
    config = dataclasses.replace(tiny_config, pipeline="tf.data", batch_size=64, epochs=2)
    inputs = fit_inputs(config, tiny)
    assert inputs["x"].cardinality() == -1  # tf.data.INFINITE_CARDINALITY
    assert inputs["steps_per_epoch"] == 5
    assert [tuple(y.shape) for _, y in inputs["x"].take(6)] == [(64,)] * 6  # batches run on across passes
    # No autotuning: its thread held the end of fit up to a minute at 60,000 images (PREFETCH_BATCHES).
    assert not inputs["x"].options().autotune.enabled and not inputs["validation_data"].options().autotune.enabled
    result = train(config, tiny)
    assert result.epochs_run == 2
    assert result.samples_per_s == pytest.approx(320 / result.steady_epoch_s)


def test_accuracy_clock_measures_within_epochs_and_keeps_its_time_out(tiny, tiny_config):
    # 6 batches of 50 per epoch, validated on the test set so a mid-epoch check can be compared with it
    config = dataclasses.replace(tiny_config, epochs=2, batch_size=50, validation_fraction=0.0)
    result = train(config, tiny, accuracy_checks=3)  # every 100 images
    seconds, samples, accuracies = zip(*result.accuracy_clock)
    assert samples == (100, 200, 300, 400, 500, 600)
    assert list(seconds) == sorted(seconds) and seconds[0] > 0
    # Epoch ends are the validation's figures, at the epoch timer's training seconds.
    assert seconds[2] == pytest.approx(result.history["epoch_s"][0])
    assert seconds[5] == pytest.approx(sum(result.history["epoch_s"]))
    assert (accuracies[2], accuracies[5]) == pytest.approx(tuple(result.history["val_accuracy"]))
    assert all(0 <= a <= 1 for a in accuracies)
    # A check mid-epoch measures what validation does: the model's test accuracy at that moment.
    clock = AccuracyClock(tiny.x_test, tiny.y_test, 100, 50, 300, EpochTimer())
    clock.set_model(result.model)
    assert clock._test_accuracy() == pytest.approx(result.test_accuracy)


def test_runs_without_the_clock_have_none(one_epoch):
    assert one_epoch.accuracy_clock == []


# --- the gradient probe -----------------------------------------------------------------------


def probe_norms(model, x, y) -> dict[str, float]:
    """Each kernel's gradient norm on (x, y), measured here independently of the probe."""
    import tensorflow as tf

    kernels = {layer.name: layer.kernel for layer in model.layers if hasattr(layer, "kernel")}
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x, training=False))
    return {name: float(tf.norm(g)) for name, g in zip(kernels, tape.gradient(loss, list(kernels.values())))}


def test_the_probe_records_every_kernel_each_epoch(one_epoch, tiny):
    history = one_epoch.history
    layers = ["conv1", "conv2", "dense1", "logits"]
    assert [k for k in history if k.startswith("grad_norm/")] == [f"grad_norm/{name}" for name in layers]
    assert [k for k in history if k.startswith("update_ratio/")] == [f"update_ratio/{name}" for name in layers]
    # At the last epoch's end the weights are the final ones: the norms are those of the first 256
    # training images (the tiny set has 270 after validation), with dropout off.
    training = tiny.split_validation(0.1)[0]  # the probe's images are the training part's first
    expected = probe_norms(one_epoch.model, training.x_train[:PROBE_IMAGES], training.y_train[:PROBE_IMAGES])
    for name in layers:
        assert history[f"grad_norm/{name}"] == [pytest.approx(expected[name], rel=1e-4)]
    assert one_epoch.grad_norm_first_conv == history["grad_norm/conv1"][-1]
    assert one_epoch.to_dict()["grad_norm_first_conv"] == one_epoch.grad_norm_first_conv


def test_the_update_ratio_is_the_epochs_change_over_the_kernel(one_epoch, tiny, tiny_config):
    # The kernels before the first epoch are the seeded initial ones: build them again.
    keras.backend.clear_session()
    keras.utils.set_random_seed(tiny_config.seed)
    initial = build_model(tiny_config, tiny.input_shape, tiny.num_classes)
    for name in ("conv1", "dense1", "logits"):
        before = initial.get_layer(name).kernel.numpy()
        after = one_epoch.model.get_layer(name).kernel.numpy()
        ratio = np.linalg.norm(after - before) / np.linalg.norm(after)
        assert one_epoch.history[f"update_ratio/{name}"] == [pytest.approx(ratio, rel=1e-4)]
    assert update_ratio(np.zeros(3), np.zeros(3)) == 0.0  # a kernel that did not move (zero initialisation)


def test_the_probe_changes_nothing_in_training(tiny, tiny_config):
    # Dropout and batch norm behave differently in training and inference, augmentation draws random
    # numbers: the probe runs in inference mode and must not draw or write anything.
    config = dataclasses.replace(tiny_config, epochs=2, dropout=0.5, batch_norm=True, augmentation=("shift", "noise"))
    probed, plain = train(config, tiny), train(config, tiny, probe_images=0)
    assert not any(k.startswith("grad_norm/") for k in plain.history)
    for key, values in plain.history.items():
        if key != "epoch_s":
            assert probed.history[key] == values, key  # bit for bit
    for name in ("train_accuracy", "train_loss", "test_accuracy", "test_loss"):
        assert getattr(probed, name) == getattr(plain, name), name
    for first, second in zip(probed.model.get_weights(), plain.model.get_weights()):
        np.testing.assert_array_equal(first, second)
    assert math.isnan(plain.grad_norm_first_conv)


def test_the_probe_is_outside_the_epoch_clock(tiny, tiny_config, monkeypatch):
    # A clock that jumps 1000 s whenever the probe runs: an epoch that included the probe would show it.
    jump = [0.0]
    monkeypatch.setattr("cnn.train.time", types.SimpleNamespace(perf_counter=lambda: time.perf_counter() + jump[0]))
    measure = GradientProbe.gradient_norms

    def slow_probe(self):
        jump[0] += 1000
        return measure(self)

    monkeypatch.setattr(GradientProbe, "gradient_norms", slow_probe)
    result = train(dataclasses.replace(tiny_config, epochs=2), tiny)
    assert len(result.history["grad_norm/conv1"]) == 2
    assert all(seconds < 1000 for seconds in result.history["epoch_s"])
    assert result.fit_s >= 2000  # the probe ran inside fit, twice: the clock did jump


def test_histories_table_keeps_the_probe_columns_in_network_order(one_epoch):
    deeper = {"epoch": 1, "loss": 1.0, "grad_norm/conv1": 1.0, "grad_norm/conv2": 1.0, "grad_norm/conv3": 1.0,
              "grad_norm/dense1": 1.0, "grad_norm/logits": 1.0}
    shallow = {"epoch": 1, **{k: v[0] for k, v in one_epoch.history.items()}}  # conv1, conv2, dense1, logits
    frame = tables.history_frame([{"epoch": 1, "grad_norm/conv1": 1.0, "grad_norm/logits": 1.0}, shallow, deeper])
    layered = [c for c in frame.columns if "/" in c]
    assert layered == ["grad_norm/conv1", "grad_norm/conv2", "grad_norm/conv3", "grad_norm/dense1", "grad_norm/logits",
                       "update_ratio/conv1", "update_ratio/conv2", "update_ratio/dense1", "update_ratio/logits"]
    assert frame.columns[:len(tables.HISTORY_COLUMNS)].tolist() == tables.HISTORY_COLUMNS
    assert frame["grad_norm/conv3"].isna().tolist() == [True, True, False]


def test_an_mlp_has_no_first_conv_gradient(tiny):
    result = train(Config(conv_filters=(), dense_units=(16,), epochs=1), tiny)
    assert [k for k in result.history if k.startswith("grad_norm/")] == ["grad_norm/dense1", "grad_norm/logits"]
    assert math.isnan(result.grad_norm_first_conv)
    assert result.to_dict()["grad_norm_first_conv"] is None  # JSON has no NaN
