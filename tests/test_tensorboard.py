"""cnn/report/tensorboard.py: the runs, read back from the event files as TensorBoard's HParams plugin
reads them: each run a session with its config as hparams and its metrics as scalars, and the
experiment summary with every hparam's domain and every metric."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

pytest.importorskip("tensorboard", reason="TensorFlow 2.20+ no longer installs it: pip install tensorboard")

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402
from tensorboard.plugins.hparams import metadata  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from cnn.config import Config, preset  # noqa: E402
from cnn.errors import CnnError  # noqa: E402
from cnn.report.tensorboard import SUFFIX, metrics_of, write_hparams  # noqa: E402

BASE = Config(epochs=2)


def row(axis, variant, seed, made: Config, test_accuracy=0.95, **extra) -> dict:
    """A runs.csv row as the suite makes it (cnn.suite's _row), its config kept under its run key."""
    return {
        "profile": "smoke",
        "axis": axis,
        "variant": variant,
        "device": "cpu",
        "seed": seed,
        "status": "ok",
        "train_accuracy": test_accuracy + 0.02,
        "test_accuracy": test_accuracy,
        "train_loss": 0.05,
        "test_loss": 0.15,
        "accuracy_gap": 0.02,
        "loss_gap": 0.1,
        "first_epoch_s": 1.5,
        "steady_epoch_s": 0.5,
        "samples_per_s": 8000.0,
        "params": 2990754,
        "epochs": made.epochs,
        "dataset": "mnist-5k",
        "config_key": made.key(),
        "run_key": f"{axis}-{variant}-{seed}",
        "created": "2026-11-21T11:34:19+00:00",
        **extra,
    }


# The registered metrics a row has: what the dashboard shows (params and the accuracies, gaps, times).
METRICS = [m.name for m in metrics_of(pd.DataFrame([row("a", "v", 0, BASE)]))]


def grid() -> tuple[list[dict], dict[str, dict]]:
    """The dropout axis (2 variants x 2 seeds) and the family axis' MLP (no conv layers)."""
    configs = {}
    rows = []
    for variant, changes in (("0", {}), ("0.5", {"dropout": 0.5})):
        for seed in (0, 1):
            config = dataclasses.replace(BASE, seed=seed, **changes)
            rows.append(row("dropout", variant, seed, config, test_accuracy=0.95 + seed / 100))
            configs[rows[-1]["run_key"]] = config.to_dict()
    mlp = dataclasses.replace(preset("seed-mlp"), epochs=2, learning_rate=0.01)
    rows.append(row("family", "seed-mlp", 0, mlp, test_accuracy=0.9))
    configs[rows[-1]["run_key"]] = mlp.to_dict()
    return rows, configs


def read_run(folder) -> tuple[dict, dict, dict]:
    """(hparams, metric values, metric steps) of one run folder, as the HParams plugin sees them."""
    events = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    start = metadata.parse_session_start_info_plugin_data(
        events.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
    )
    hparams = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    metrics = [tag for tag in events.Tags()["tensors"] if tag in METRICS]
    values = {tag: tensor_util.make_ndarray(events.Tensors(tag)[-1].tensor_proto).item() for tag in metrics}
    steps = {tag: events.Tensors(tag)[-1].step for tag in metrics}
    return hparams, values, steps


def read_experiment(folder):
    events = event_accumulator.EventAccumulator(str(folder))
    events.Reload()
    return metadata.parse_experiment_plugin_data(
        events.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG]
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The grid through runs.csv and back (variant ids stay text), written once for the tests below."""
    rows, configs = grid()
    path = tmp_path_factory.mktemp("results") / "runs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    folder = tmp_path_factory.mktemp("tensorboard")
    count = write_hparams(folder, pd.read_csv(path, dtype={"axis": str, "variant": str, "device": str}), configs)
    return folder, count, rows


def test_every_run_is_a_session_with_its_config_as_hparams_and_its_metrics(written):
    folder, count, rows = written
    assert count == len(rows) == 5
    for expected in rows:
        hparams, values, steps = read_run(
            folder / f"cpu/{expected['axis']}[{expected['variant']}]/seed-{expected['seed']}"
        )
        assert hparams["axis"] == expected["axis"] and hparams["variant"] == expected["variant"]
        assert hparams["seed"] == expected["seed"] and hparams["device"] == "cpu" and hparams["status"] == "ok"
        assert hparams["epochs"] == 2 and hparams["optimizer"] == "adam" and hparams["jit_compile"] is False
        assert set(values) == set(METRICS)
        for metric in METRICS:
            assert values[metric] == pytest.approx(expected[metric], rel=1e-6)
        assert set(steps.values()) == {2}  # the metrics are the run's after its last epoch
    dropout, _, _ = read_run(folder / "cpu/dropout[0.5]/seed-1")
    assert dropout["dropout"] == 0.5 and dropout["conv_filters"] == "32-64-64" and dropout["dense_units"] == "5000"
    assert "learning_rate" not in dropout  # None (the optimizer's default) is left out, not written as text
    mlp, _, _ = read_run(folder / "cpu/family[seed-mlp]/seed-0")
    assert mlp["conv_filters"] == "none" and mlp["dense_units"] == "128" and mlp["learning_rate"] == pytest.approx(0.01)


def test_the_experiment_has_every_hparam_domain_and_metric_for_the_parallel_coordinates_view(written):
    folder, _, _ = written
    experiment = read_experiment(folder)
    infos = {info.name: info for info in experiment.hparam_infos}
    assert {"axis", "variant", "seed", "device", "dropout", "conv_filters", "learning_rate", "optimizer"} <= set(infos)
    assert [v.string_value for v in infos["variant"].domain_discrete.values] == ["0", "0.5", "seed-mlp"]
    assert [v.number_value for v in infos["dropout"].domain_discrete.values] == [0.0, 0.2, 0.5]
    assert [v.string_value for v in infos["conv_filters"].domain_discrete.values] == ["32-64-64", "none"]
    # The dashboard shows five hparams at first, the differing ones first.
    assert infos["dropout"].differs and infos["seed"].differs and not infos["optimizer"].differs
    assert [m.name.tag for m in experiment.metric_infos] == list(METRICS)
    assert {m.display_name for m in experiment.metric_infos} >= {"test accuracy", "accuracy gap", "steady epoch s"}


def test_a_config_column_serves_without_the_cache_and_missing_values_are_left_out(tmp_path):
    config = dataclasses.replace(BASE, dropout=0.2)
    rows = [row("dropout", "0.2", 0, config, config=json.dumps(config.to_dict())),
            row("dropout", "0.2", 1, config, test_accuracy=float("nan"), status="diverged")]
    assert write_hparams(tmp_path, pd.DataFrame(rows), {}) == 2
    hparams, values, _ = read_run(tmp_path / "cpu/dropout[0.2]/seed-0")
    assert hparams["dropout"] == pytest.approx(0.2) and hparams["conv_filters"] == "32-64-64"
    diverged, values, _ = read_run(tmp_path / "cpu/dropout[0.2]/seed-1")
    assert diverged["status"] == "diverged" and "test_accuracy" not in values and "train_loss" in values


def test_a_run_without_config_keeps_its_run_fields(tmp_path):
    assert write_hparams(tmp_path, pd.DataFrame([row("epochs", "3", 0, BASE)]), {}) == 1
    hparams, values, _ = read_run(tmp_path / "cpu/epochs[3]/seed-0")
    assert hparams["axis"] == "epochs" and hparams["variant"] == "3" and "dropout" not in hparams
    assert values["test_accuracy"] == pytest.approx(0.95)


def test_writing_again_replaces_its_own_event_files_and_no_others(tmp_path):
    rows, configs = grid()
    foreign = tmp_path / "events.out.tfevents.123.host.training"
    foreign.parent.mkdir(parents=True, exist_ok=True)
    foreign.write_bytes(b"")
    write_hparams(tmp_path, pd.DataFrame(rows), configs)
    rows[0]["test_accuracy"] = 0.5
    write_hparams(tmp_path, pd.DataFrame(rows), configs)
    assert foreign.exists()
    assert len(list(tmp_path.glob(f"events.out.tfevents.*{SUFFIX}"))) == 1
    run = tmp_path / "cpu/dropout[0]/seed-0"
    assert len(list(run.glob("events.out.tfevents.*"))) == 1
    assert read_run(run)[1]["test_accuracy"] == pytest.approx(0.5)


def test_the_same_run_twice_or_a_missing_column_is_an_error_naming_it(tmp_path):
    rows, configs = grid()
    twice = pd.DataFrame([rows[0], {**rows[0], "profile": "standard"}])
    with pytest.raises(CnnError, match=r"two rows for cpu/dropout\[0\]/seed-0"):
        write_hparams(tmp_path, twice, configs)
    with pytest.raises(CnnError, match="no column seed"):
        write_hparams(tmp_path, pd.DataFrame(rows).drop(columns="seed"), configs)
