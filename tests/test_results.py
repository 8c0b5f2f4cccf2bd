"""cnn.results: the metric registry, the one formatter, the schema's column order, the writer and
the reader of a results folder; and, through the plugin, that a metric of an evaluation of your
own is one declaration plus the code that computes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cnn.errors import CnnError
from cnn.results import schema, tables
from cnn.results.format import fmt, fmt_spread, label
from cnn.results.metrics import METRICS, Metric, known_metrics, metric, register_metric
from cnn.results.store import ResultsFolder, SessionOutput, benchmark_info, save_evaluation_arrays, write_results

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]

ROOT = Path(__file__).resolve().parents[1]


def run_row(axis="dropout", variant="0", seed=0, **extra) -> dict:
    return {"profile": "tiny", "axis": axis, "variant": variant, "device": "cpu", "seed": seed, "status": "ok",
            "test_accuracy": 0.9 + seed / 100, "train_accuracy": 0.95, "accuracy_gap": 0.05, "loss_gap": 0.1,
            "steady_epoch_s": 1.0, "samples_per_s": 1000.0, "params": 1234, "cached": False, "train_s": 2.0,
            "run_key": f"{axis}-{variant}-{seed}", **extra}


def record(name="dropout", variants=("0", "0.5"), **extra) -> dict:
    return {
        "name": name,
        "question": "?",
        "variants": [{"id": v} for v in variants],
        "effects": [],
        "sections": [],
        **extra,
    }


# --- the registry and the formatter -------------------------------------------------------------


def test_a_metric_is_written_as_declared():
    assert fmt("test_accuracy", 0.95) == "0.9500" and fmt("accuracy_gap", 0.02) == "+0.0200"
    assert fmt("accuracy_gap", 0.02, sign=False) == "0.0200"  # a spread has no sign
    assert fmt("samples_per_s", 12345.6) == "12,346" and fmt("steady_epoch_s", 2.345) == "2.35"
    assert fmt("grad_norm_first_conv", 0.000123456) == "0.000123"  # significant figures: it spans decades
    assert fmt("test_accuracy", -0.00001) == "0.0000" and fmt("loss_gap", -0.00001) == "+0.0000"  # no "-0.0000"
    assert fmt("test_accuracy", float("nan")) == "n/a" and fmt("test_accuracy", None) == "n/a"
    assert (
        fmt_spread("test_accuracy", 0.951, 0.0014) == "0.9510 ± 0.0014"
        and fmt_spread("test_accuracy", 0.951) == "0.9510"
    )


def test_the_registry_is_loud_on_a_repeat_an_unknown_name_or_a_bad_declaration():
    with pytest.raises(CnnError, match="metric 'test_accuracy' is already registered"):
        register_metric("test_accuracy", "again", ".4f")
    with pytest.raises(CnnError, match="unknown metric 'tset_accuracy'; known: test_accuracy, "):
        metric("tset_accuracy")
    with pytest.raises(CnnError, match="direction 'up' is not one of higher, lower, none"):
        Metric("m", "m", ".4f", "up")
    with pytest.raises(CnnError, match="fmt 'x' is not a format spec"):
        Metric("m", "m", "x")


def test_what_lists_metrics_reads_the_registry():
    from cnn.results.metrics import baseline_spread_metrics, summarised

    assert baseline_spread_metrics() == [
        "test_accuracy",
        "train_accuracy",
        "accuracy_gap",
        "loss_gap",
        "steady_epoch_s",
    ]
    averaged, fixed = summarised(["params", "test_accuracy", "status", "flops_per_sample"])
    assert averaged == ["test_accuracy"] and fixed == ["params", "flops_per_sample"]
    info = benchmark_info([run_row(seed=0), run_row(seed=1, cached=True)])
    assert info["test_accuracy"] == [0.9, 0.91] and info["params"] == 1234 and info["cached_seeds"] == [1]
    assert "grad_norm_first_conv" not in info  # only the metrics the rows have


def test_a_metric_only_a_results_folder_declares_is_summarised_too(monkeypatch):
    from cnn.results import metrics as registry

    monkeypatch.setattr(registry, "_DECLARED", {})
    registry.declare(Metric("photo_score", "photo score", ".4f"))  # as ResultsFolder does from metrics.json
    assert registry.summarised(["test_accuracy", "photo_score", "params"]) == (
        ["test_accuracy", "photo_score"], ["params"])


# --- the schema, the writer and the reader ------------------------------------------------------


def test_unknown_columns_are_kept_after_the_known_ones():
    frame = tables.runs_frame([run_row(my_column=7, another="x")])
    assert frame.columns[:len(schema.RUN_COLUMNS)].tolist() == schema.RUN_COLUMNS
    assert frame.columns[-2:].tolist() == ["my_column", "another"] and frame.loc[0, "my_column"] == 7
    summary = tables.summary_frame(frame.assign(params=1234))
    assert "test_accuracy_mean" in summary and "my_column_mean" not in summary  # a column is summarised once declared


def output(rows, axes, **extra) -> SessionOutput:
    histories = [
        {
            "profile": "tiny",
            "axis": r["axis"],
            "variant": r["variant"],
            "device": "cpu",
            "seed": r["seed"],
            "epoch": 1,
            "loss": 0.5,
            "accuracy": 0.9,
            "val_loss": 0.4,
            "val_accuracy": r["test_accuracy"],
            "epoch_s": 1.0,
        }
        for r in rows
    ]
    return SessionOutput(
        profile="tiny", rows=rows, histories=histories, axes=axes, run_info={"profile": "tiny"}, **extra
    )


def test_the_writer_merges_with_earlier_variants_and_the_reader_reads_every_file(tmp_path):
    first = write_results(tmp_path, output([run_row(variant="0.5"), run_row(variant="0.5", seed=1)], [record()]))
    assert {p.name for p in first.paths} == {
        schema.RUNS_CSV,
        schema.SUMMARY_CSV,
        schema.HISTORIES_CSV,
        schema.AXES_JSON,
        schema.METRICS_JSON,
        schema.EFFECTS_CSV,
        schema.RUN_JSON,
        schema.BENCHMARKS_CSV,
    }
    again = write_results(tmp_path, output([run_row(variant="0", extra_column=3)], [record()]))
    assert again.runs["variant"].tolist() == ["0", "0.5", "0.5"]  # the grid's order, the earlier variant kept
    assert "extra_column" in again.runs and "dropout" in again.table and "0.9000" in again.table
    folder = ResultsFolder(tmp_path)
    assert folder.runs()["variant"].tolist() == ["0", "0.5", "0.5"] and "extra_column" in folder.runs()
    assert folder.summary()["n"].tolist() == [1, 2] and len(folder.histories()) == 3
    assert folder.axes()[0]["name"] == "dropout" and folder.info() == {"profile": "tiny"}
    assert folder.benchmarks()["train_s"].tolist() == [2.0, 2.0, 2.0]
    assert folder.declared_metrics()["test_accuracy"]["fmt"] == ".4f"


def test_summary_and_effects_are_computed_from_runs_csv_as_written_so_a_rejudge_changes_no_digit(tmp_path):
    from cnn.results.store import rejudge

    claim = {"metric": "grad_norm_first_conv", "low": "sigmoid", "high": "relu", "claim": "vanishes", "min_effect": 10}
    norms = {"relu": lambda s: 0.7 + s / 7, "sigmoid": lambda s: 2.2222222e-7 * (s + 1) / 3}  # more digits than
    rows = [run_row("activation", v, s, grad_norm_first_conv=norms[v](s))  # the CSV's 6 significant ones
            for v in ("relu", "sigmoid") for s in range(3)]
    write_results(tmp_path, output(rows, [record("activation", ("relu", "sigmoid"), effects=[claim])]))
    written = {name: (tmp_path / name).read_text() for name in (schema.SUMMARY_CSV, schema.EFFECTS_CSV)}
    assert "vanishes" in written[schema.EFFECTS_CSV]
    rejudge(tmp_path)
    assert {name: (tmp_path / name).read_text() for name in written} == written


def test_speed_figures_for_an_axis_with_a_speed_section_and_their_table_in_the_terminal(tmp_path):
    rows = [run_row("speed", v, s, samples_per_s=1000.0 * (1 + i), flops_per_sample=1e6, precision="float32")
            for i, v in enumerate(("naive", "fast")) for s in (0, 1)]
    written = write_results(
        tmp_path, output(rows, [record("speed", ("naive", "fast"), sections=["speed"], reference="naive")])
    )
    assert written.speed.set_index("variant").loc["fast", "speedup"] == 2.0
    assert "speed (matmul peak: not measured in this run)" in written.table
    assert ResultsFolder(tmp_path).speed()["axis"].tolist() == ["speed", "speed"]


def test_evaluation_arrays_are_named_by_evaluation_axis_and_variant(tmp_path):
    import numpy as np

    path = save_evaluation_arrays(tmp_path, "errors", "family", "seed-cnn", {"test_index": np.arange(3)}, seed=0)
    assert path.name == "errors-family-seed-cnn.npz"
    (tmp_path / schema.AXES_JSON).write_text(
        json.dumps([record("dropout"), record("family", ("seed-mlp", "seed-cnn"))])
    )
    axis, variant, arrays = ResultsFolder(tmp_path).first_evaluation_arrays("errors")
    assert (axis, variant) == ("family", "seed-cnn") and arrays["test_index"].tolist() == [0, 1, 2]
    assert str(arrays["seed"]) == "0" and str(arrays["axis"]) == "family"


# --- a metric of your own: one declaration and the code that computes it ---------------------------

CONFTEST = """
from cnn.ablate import PROFILES, Profile
from cnn.ablate.evaluations import Outcome, register_evaluation
from cnn.results.metrics import Metric

PROFILES.add("tiny", Profile("tiny", "npz:{data}", 2, 1, "the tiny digits, two epochs"))


@register_evaluation(
    "ink", metrics=[Metric("ink_ratio", "ink ratio", ".3f", "higher", description="test pixels above 0.5")]
)
def ink(model, dataset):
    return Outcome({{"ink_ratio": float((dataset.x_test > 0.5).mean())}})
"""

AXIS_FILE = '''
from cnn.ablate import Axis, v
from cnn.config import Config

AXIS = Axis("ink", "How much ink do the test digits have?", variants=[v("small")],
            base=Config(conv_filters=(4, 8), dense_units=(16,), learning_rate=0.005),  # ~0.6 after 2 epochs: learns
            evaluations=("ink",))
test_ink, test_ink_effects = AXIS.tests()
'''


def test_a_conftest_evaluation_adds_its_metric_to_runs_summary_and_report(pytester, tiny_npz, monkeypatch):
    pytester.makeconftest(CONFTEST.format(data=tiny_npz))
    pytester.makepyfile(test_ink=AXIS_FILE)
    # The subprocess imports this checkout's cnn, as the test process does.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    result = pytester.runpytest_subprocess(
        "--ablation-profile", "tiny", "--ablation-results", "out", "-p", "no:cacheprovider", "--benchmark-disable", "-q"
    )
    result.assert_outcomes(passed=2)
    folder = pytester.path / "out" / "tiny"
    runs, summary = pd.read_csv(folder / schema.RUNS_CSV), pd.read_csv(folder / schema.SUMMARY_CSV)
    ratio = runs.loc[0, "ink_ratio"]
    assert 0 < ratio < 1 and summary.loc[0, "ink_ratio_mean"] == ratio
    report = (folder / schema.REPORT_MD).read_text()
    assert "| ink ratio | status |" in report and f"| {ratio:.3f} | ok |" in report
    # Another process, without the conftest, reads the metric's declaration from the folder.
    assert json.loads((folder / schema.METRICS_JSON).read_text())["ink_ratio"]["evaluation"] == "ink"
    if "ink_ratio" not in METRICS:
        ResultsFolder(folder)
        assert fmt("ink_ratio", 0.25) == "0.250" and "ink_ratio" in [m.name for m in known_metrics()]
        assert "ink_ratio" not in METRICS  # known for formatting; the evaluation's registration is not in its way


def test_a_metric_no_one_declared_here_is_still_written():
    # An xdist controller or a folder from another project can hold a column this process never registered.
    assert fmt("ink_ratio_never_registered", 0.123456) == "0.1235"
    assert label("ink_ratio_never_registered") == "ink ratio never registered"


def test_the_session_knows_the_built_in_evaluations_metrics_without_an_axis():
    # An xdist controller imports no axis file, yet writes runs.csv's photo_accuracy and the report.
    code = ("import cnn.ablate.session; from cnn.results.metrics import METRICS; "
            "assert 'photo_accuracy' in METRICS, METRICS.names()")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
