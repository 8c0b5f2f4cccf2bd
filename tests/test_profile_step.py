"""The step profiler: TensorFlow's trace read back and summed by kind of op."""

from __future__ import annotations

import dataclasses

from cnn.config import preset
from cnn.profile_step import kind_of, main, profile_step


def test_kinds_of_ops():
    assert kind_of("StatefulPartitionedCall/adam/Sqrt_13", "Sqrt") == "optimizer update"
    assert kind_of("StatefulPartitionedCall/adam/ResourceApplyAdam", "ResourceApplyAdam") == "optimizer update"
    assert kind_of("gradient_tape/cnn/conv2/convolution/Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter") == "conv backward (filter)"
    assert kind_of("cnn/dense1/Relu", "_MklNativeFusedMatMul") == "dense matmul (forward and backward)"
    assert kind_of("cnn/dense1/Cast/Cast", "Cast") == "mixed-precision casts"
    assert kind_of("somewhere", "Unheard") == "other: Unheard"


def test_profile_of_the_fused_fast_path_finds_its_update_and_its_convolutions(tiny):
    config = dataclasses.replace(preset("fast-cnn"), batch_size=32, dense_units=(64,))
    profile = profile_step(config, tiny, steps=5)
    assert profile.wall_ms > 0 and profile.samples_per_s > 0
    assert {"optimizer update", "conv forward", "conv backward (filter)", "dense matmul (forward and backward)"} <= set(profile.busy_ms)
    assert profile.busy_ms["optimizer update"] > 0 and profile.busy_ms["conv forward"] > 0
    assert "ms a step at batch 32" in profile.table() and "optimizer update" in profile.table()


def test_an_unknown_preset_is_one_line(capsys):
    assert main(["fastest-cnn", "--dataset", "mnist-5k"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fastest-cnn" in err and "seed-cnn" in err
