"""cnn/ablate/prefix.py: a shorter variant read from a longer run is the run it would have been."""

import dataclasses

import pytest

from cnn.ablate.prefix import prefix_record
from cnn.train import train


@pytest.fixture(scope="module")
def runs(tiny, tiny_config):
    """A 3-epoch run with snapshots after epochs 1 and 2, and the 1-epoch run of the same seed."""
    long = train(dataclasses.replace(tiny_config, epochs=3), tiny, snapshot_epochs=(1, 2), accuracy_checks=2)
    short = train(dataclasses.replace(tiny_config, epochs=1), tiny, accuracy_checks=2)
    return long, short


def test_the_first_epoch_of_a_longer_run_is_the_one_epoch_run(runs, tiny_config):
    long, short = runs
    record = prefix_record({**long.to_dict(), "run_key": "abc", "train_s": 9.0}, short.config, "3")
    expected = short.to_dict()
    for name in ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "accuracy_gap", "grad_norm_first_conv",
                 "epochs_run"):
        assert record[name] == pytest.approx(expected[name], rel=1e-6), name
    assert (record["status"], record["config_key"]) == (expected["status"], expected["config_key"])
    assert record["config"]["epochs"] == 1 and record["prefix_of"] == "3" and record["run_key"] == "abc-e1"
    for name in ("loss", "val_accuracy", "train_fit_accuracy"):
        assert record["history"][name] == pytest.approx(expected["history"][name], rel=1e-6), name
    # the clock's points of the first epoch: (images, accuracy) as the one-epoch run's
    assert [p[1] for p in record["accuracy_clock"]] == [p[1] for p in expected["accuracy_clock"]]
    assert [p[2] for p in record["accuracy_clock"]] == pytest.approx([p[2] for p in expected["accuracy_clock"]])
    seconds = long.history["epoch_s"]
    assert record["first_epoch_s"] == seconds[0]
    assert record["train_s"] == pytest.approx(9.0 * seconds[0] / sum(seconds))  # its epochs' share of the wall time
    assert record["snapshots"] == {}


def test_a_run_that_diverged_before_the_prefix_ends_keeps_its_divergence(runs, tiny_config):
    long, _ = runs
    record = {**long.to_dict(), "status": "diverged", "diverged_epoch": 1, "epochs_run": 1,
              "history": {k: v[:1] for k, v in long.to_dict()["history"].items()}}
    read = prefix_record(record, dataclasses.replace(tiny_config, epochs=2), "3")
    assert read["status"] == "diverged" and read["diverged_epoch"] == 1 and read["epochs_run"] == 1


def test_snapshot_epochs_must_lie_before_the_last(tiny, tiny_config):
    from cnn.errors import CnnError

    with pytest.raises(CnnError, match=r"snapshot epochs \[3\] must lie in 1..2"):
        train(dataclasses.replace(tiny_config, epochs=3), tiny, snapshot_epochs=(3,))
