"""The step profiler: TensorFlow's trace read back and summed by kind of op."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from cnn.config import preset
from tools.profile_step import kind_of, main, profile_step


def test_kinds_of_ops():
    assert kind_of("StatefulPartitionedCall/adam/Sqrt_13", "Sqrt") == "optimizer update"
    assert kind_of("StatefulPartitionedCall/adam/ResourceApplyAdam", "ResourceApplyAdam") == "optimizer update"
    assert (
        kind_of("gradient_tape/cnn/conv2/convolution/Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter")
        == "conv backward (filter)"
    )
    assert kind_of("cnn/dense1/Relu", "_MklNativeFusedMatMul") == "dense matmul (forward and backward)"
    assert kind_of("cnn/dense1/Cast/Cast", "Cast") == "mixed-precision casts"
    assert kind_of("somewhere", "Unheard") == "other: Unheard"


def test_profile_of_the_fused_fast_path_finds_its_update_and_its_convolutions(tiny):
    config = dataclasses.replace(preset("fast-cnn"), batch_size=32, dense_units=(64,))
    profile = profile_step(config, tiny, steps=5)
    assert profile.wall_ms > 0 and profile.samples_per_s > 0
    assert {"optimizer update", "conv forward", "conv backward (filter)", "dense matmul (forward and backward)"} <= set(
        profile.busy_ms
    )
    assert profile.busy_ms["optimizer update"] > 0 and profile.busy_ms["conv forward"] > 0
    assert "ms a step at batch 32" in profile.table() and "optimizer update" in profile.table()


def test_an_unknown_preset_is_one_line(capsys):
    assert main(["fastest-cnn", "--dataset", "mnist-5k"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fastest-cnn" in err and "seed-cnn" in err


def test_the_profiler_compiles_with_trains_recipe(tiny, monkeypatch):
    # The recipe itself: mixed_float16 gets the loss scaler (the profiler's own copy once dropped it).
    import keras

    from cnn import train as train_module
    from cnn.models import build_model

    config = dataclasses.replace(
        preset("seed-cnn"), precision="mixed_float16", dense_units=(16,), steps_per_execution=3
    )
    model = train_module.compile_model(config, build_model(config, tiny.input_shape, tiny.num_classes))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.steps_per_execution == 3
    # And the profiler goes through it, not a copy of it.
    seen = []

    class Stop(Exception):
        pass

    def spy(config, model):
        seen.append(config)
        raise Stop

    monkeypatch.setattr(train_module, "compile_model", spy)
    with pytest.raises(Stop):
        profile_step(config, tiny, steps=1)
    assert seen == [config]


def test_runs_as_a_script_from_the_repository(tmp_path):
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "tools" / "profile_step.py"), "fastest-cnn"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("error: unknown preset 'fastest-cnn'; known: seed-cnn")
