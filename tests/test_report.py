"""`cnn report` and `--compare` on small synthetic results (2 axes x 2 variants x 2 seeds): no training.

The numbers are planted so the right verdicts are known: dropout 0.5 narrows the accuracy gap far
beyond its seed spread but not the loss gap; the full training set beats 10% of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cnn.cli import main
from cnn.data import load_dataset
from cnn.report import plots
from cnn.report.compare import compare, load_side, write_compare
from cnn.report.report import benchmark_section, load_results, write_report
from cnn.results import tables
from tests.conftest import axis_records

REPO = Path(__file__).resolve().parents[1]

# (axis, variant): per seed (test accuracy, train accuracy, loss gap, steady epoch s, n_train)
PLANTED = {
    ("dropout", "0"): [(0.950, 0.970, 0.060, 2.00, 4000), (0.952, 0.974, 0.040, 2.10, 4000)],
    ("dropout", "0.5"): [(0.955, 0.965, 0.045, 2.05, 4000), (0.957, 0.968, 0.058, 2.02, 4000)],
    ("data", "10%"): [(0.900, 0.990, 0.200, 0.25, 400), (0.910, 0.995, 0.190, 0.26, 400)],
    ("data", "100%"): [(0.960, 0.975, 0.050, 2.00, 4000), (0.965, 0.978, 0.055, 2.03, 4000)],
}


def planted_rows(shift: dict | None = None, seeds: int = 2) -> list[dict]:
    """runs.csv rows for PLANTED; `shift` adds to the test accuracy of some (axis, variant)s."""
    rows = []
    for (axis, variant), values in PLANTED.items():
        for seed, (test, train, loss_gap, epoch_s, n_train) in enumerate(values[:seeds]):
            test += (shift or {}).get((axis, variant), 0.0)
            rows.append(
                {
                    "profile": "smoke",
                    "axis": axis,
                    "variant": variant,
                    "device": "cpu",
                    "seed": seed,
                    "status": "ok",
                    "train_accuracy": train,
                    "test_accuracy": test,
                    "train_loss": 0.1,
                    "test_loss": 0.1 + loss_gap,
                    "accuracy_gap": train - test,
                    "loss_gap": loss_gap,
                    "first_epoch_s": epoch_s + 1,
                    "steady_epoch_s": epoch_s,
                    "samples_per_s": n_train / epoch_s,
                    "fit_s": 2 * epoch_s + 1,
                    "params": 2990754,
                    "flops_per_sample": 11373472,
                    "n_train": n_train,
                    "epochs": 2,
                    "dataset": "mnist-5k",
                    "cached": False,
                }
            )
    return rows


def write_results(folder: Path, rows: list[dict], base_errors: bool = True) -> Path:
    """A results folder as the suite writes it: the three CSVs, run.json and base_errors.csv."""
    runs = tables.runs_frame(rows)
    histories = [
        {
            "profile": "smoke",
            "axis": r["axis"],
            "variant": r["variant"],
            "device": "cpu",
            "seed": r["seed"],
            "epoch": epoch,
            "loss": 0.5 / epoch,
            "accuracy": r["train_accuracy"] - 0.1 / epoch,
            "val_accuracy": r["test_accuracy"] - 0.05 / epoch,
            "val_loss": 0.3 / epoch,
            "epoch_s": r["steady_epoch_s"],
        }
        for r in rows
        for epoch in (1, 2)
    ]
    for name, frame in (("runs.csv", runs), ("summary.csv", tables.summary_frame(runs)),
                        ("histories.csv", tables.history_frame(histories))):
        tables.write_csv(folder / name, frame)
    info = {"profile": "smoke", "dataset": "mnist-5k", "dataset_fingerprint": load_dataset("mnist-5k").fingerprint,
            "seeds": 2, "versions": {"keras": "3.0"}, "machine": {"cpus": "2"}, "commit": "abc1234",
            "description": "embedded digits, 2 epochs: why this size"}
    (folder / "run.json").write_text(json.dumps(info))
    (folder / "axes.json").write_text(json.dumps(axis_records(*dict.fromkeys(r["axis"] for r in rows))))
    if base_errors:
        pd.DataFrame({"test_index": [3, 17, 42], "true": [1, 2, 3], "predicted": [7, 3, 5],
                      "confidence": [0.9, 0.6, 0.7]}).to_csv(folder / "base_errors.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> tuple[Path, str]:
    """(folder, report.md text) for the planted results, with a saved pytest-benchmark run beside them."""
    folder = write_results(tmp_path_factory.mktemp("smoke"), planted_rows())
    benchmarks = tmp_path_factory.mktemp("benchmarks")
    (benchmarks / "Linux-CPython-3.11-64bit").mkdir()
    (benchmarks / "Linux-CPython-3.11-64bit" / "0001_mine.json").write_text(json.dumps(benchmark_json(planted_rows())))
    return folder, write_report(folder, benchmarks=benchmarks).read_text()


def benchmark_json(rows: list[dict]) -> dict:
    """What `pytest --benchmark-save` writes for these rows: one entry per variant, the seeds in extra_info."""
    entries = []
    for (axis, variant), group in pd.DataFrame(rows).groupby(["axis", "variant"], sort=False):
        entries.append({
            "name": f"test_{axis}[{variant}]",
            "extra_info": {"axis": axis, "variant": variant, "device": "cpu", "profile": "smoke", "dataset": "mnist-5k",
                           "seeds": group["seed"].tolist(), "test_accuracy": group["test_accuracy"].tolist(),
                           "steady_epoch_s": group["steady_epoch_s"].tolist()},
            "stats": {"min": 4.5, "max": 5.5, "mean": 5.0, "stddev": 0.7071, "rounds": len(group)},
        })
    return {"datetime": "2026-01-01T00:00:00+00:00", "benchmarks": entries}


def test_report_tables_hold_the_csv_numbers(reported):
    _, text = reported
    assert text.startswith("# Ablation report: smoke profile on mnist-5k\n\n"
                           "- the profile: embedded digits, 2 epochs: why this size\n")  # run.json's, said first
    assert "commit: abc1234" in text
    # dropout 0: test 0.951 +/- 0.0014, train 0.972, gap +0.021, loss gap +0.05, 2.05 s, 1,952 samples/s
    assert "| 0 | cpu | 2 | 0.9510 ± 0.0014 | 0.9720 | +0.0210 | +0.0500 | 2.05 | 1,952 | 2,990,754 | ok |" in text
    assert "| 100% | cpu | 2 | 0.9625 ± 0.0035 |" in text
    assert text.index("## dropout") < text.index("## data")  # the grid's axis order


def test_what_it_found_lists_only_the_shown_effects_with_numbers(reported):
    _, text = reported
    found = text.split("## What it found")[1].split("\n## ")[0]
    assert "dropout 0.5 narrows the train-test accuracy gap: +0.0105 [+0.0036, +0.0174] 95% CI, p_adj 0.048" in found
    assert "n 2 vs 2; accuracy gap 0: +0.0210 ± 0.0014 (n=2) vs 0.5: +0.0105 ± 0.0007 (n=2)" in found
    assert "the full training set beats 10% of it on test accuracy" in found
    assert "loss gap" not in found
    assert '**undetermined** (the smallest change this run shows with 80% power is ' in text
    assert '"dropout 0.5 narrows the train-test loss gap": ' in text and "; loss gap 0: " in text


def test_every_plot_exists_opens_and_is_not_blank(reported):
    folder, text = reported
    links = re.findall(r"!\[[^]]*]\(([^)]+)\)", text)
    names = {Path(link).name for link in links}
    assert {"dropout-accuracy.png", "dropout-gap.png", "dropout-curves.png", "dropout-cost.png", "data-size.png",
            "accuracy-vs-time.png", "samples.png", "base-errors.png"} <= names
    for link in links:
        with Image.open(folder / link) as image:
            pixels = np.asarray(image.convert("L"))
        assert min(pixels.shape) > 150, link
        assert (pixels < 128).mean() > 0.005, f"{link} is nearly blank"


def test_saved_benchmark_timings_are_reported(reported):
    _, text = reported
    assert "## Saved benchmark timings" in text
    assert "| test_dropout[0.5] | 2 | 5.00 ± 0.71 | 4.50 |" in text


def test_a_variant_at_chance_is_called_out(tmp_path):
    rows = planted_rows(shift={("dropout", "0.5"): -0.86})  # 0.095, 0.097: chance is 0.10 on ten digits
    text = write_report(write_results(tmp_path, rows, base_errors=False), benchmarks=None).read_text()
    assert "**did not learn in 2 epochs**: 0.5 (cpu), test accuracy 0.0960, chance 0.10" in text
    assert "| did not learn in 2 epochs |" in text
    # No axis runs the errors evaluation: the report says so, and how to get the grid.
    assert "No axis in this folder runs the errors evaluation" in text and 'add evaluations=("errors",) to one' in text


def test_one_seed_borrows_the_baseline_spread_and_says_so(tmp_path):
    folder = write_results(tmp_path / "smoke", planted_rows(seeds=1), base_errors=False)
    spread = {"spread": {"accuracy_gap": 0.001, "loss_gap": 0.02}}
    baseline = {"smoke": {"dataset_fingerprint": load_dataset("mnist-5k").fingerprint,
                          "variants": {"cpu/dropout[0]": spread, "cpu/dropout[0.5]": spread}}}
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    text = write_report(folder, benchmarks=None).read_text()
    assert "**shown**: dropout 0.5 narrows the train-test accuracy gap: +0.0100 [" in text
    assert ("(Welch t, a one-seed side's spread from the baseline, df 2.0), n 1 vs 1; accuracy gap 0: +0.0200 (n=1; "
            "the baseline's std 0.0010) vs 0.5: +0.0100 (n=1; the baseline's std 0.0010)") in text
    assert '"dropout 0.5 narrows the train-test loss gap": ' in text and "; loss gap 0: " in text
    # No baseline entry for the data axis: its spread is unknown and nothing is claimed, and it says so.
    assert ('**not judged** (10% and 100% have one seed and the baseline records no spread for it, so the '
            'spread is unknown): "the full training set') in text
    # The same line as effects.csv would hold: one judge, one wording.
    assert "(n=1; the baseline's std" in text and "± 0.0010 (n=1)" not in text


def test_the_baseline_run_json_names_lends_its_spreads_wherever_the_folder_is(tmp_path):
    # --ablation-results /tmp/r: the project's baseline is not beside the folder; run.json names it.
    folder = write_results(tmp_path / "out" / "smoke", planted_rows(seeds=1), base_errors=False)
    spread = {"spread": {"accuracy_gap": 0.001}}
    baseline = {"smoke": {"dataset_fingerprint": load_dataset("mnist-5k").fingerprint,
                          "variants": {"cpu/dropout[0]": spread, "cpu/dropout[0.5]": spread}}}
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "baseline.json").write_text(json.dumps(baseline))
    info = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**info, "baseline": "../../project/baseline.json"}))
    text = write_report(folder, benchmarks=None).read_text()
    assert "**shown**: dropout 0.5 narrows the train-test accuracy gap" in text


def test_curves_and_tables_use_only_the_runs_in_runs_csv(tmp_path):
    folder = write_results(tmp_path, planted_rows(seeds=1), base_errors=False)
    stale = pd.read_csv(folder / "histories.csv", dtype={"variant": str}).assign(seed=1)  # a seed a later run dropped
    stale.to_csv(folder / "histories.csv", mode="a", header=False, index=False)
    results = load_results(folder)
    assert set(results.histories["seed"]) == {0}
    assert list(results.summary["variant"]) == ["0", "0.5", "10%", "100%"]  # the grid's order, variant ids as text


def test_compare_flags_a_planted_accuracy_drop_and_not_noise(tmp_path):
    a = load_side(write_results(tmp_path / "a", planted_rows()))
    noise = {key: 0.001 for key in PLANTED}
    b = load_side(write_results(tmp_path / "b", planted_rows(shift={**noise, ("data", "100%"): -0.05})))
    verdicts = compare(a, b).set_index(["axis", "variant"])["test_accuracy_verdict"]
    assert verdicts[("data", "100%")] == "changed"
    assert (verdicts.drop(("data", "100%")) == "no change shown").all()


def test_compare_says_spread_unknown_for_one_seed_and_reads_benchmark_json(tmp_path):
    a = tmp_path / "a"
    write_results(a, planted_rows(seeds=1))
    saved = tmp_path / "0002_b.json"
    saved.write_text(json.dumps(benchmark_json(planted_rows(shift={("data", "100%"): -0.05}))))
    text, written = write_compare(a, saved, tmp_path / "out")
    frame = pd.read_csv(written[1], dtype={"variant": str})
    assert set(frame["test_accuracy_verdict"]) == {"spread unknown"}
    assert (tmp_path / "out" / "compare.md").read_text() == text
    assert "| data | 100% | cpu | 1/2 | 0.9600 | 0.9125 ± 0.0035 | -0.0475 | spread unknown |" in text


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_the_report_into_out(tmp_path, capsys):
    folder = write_results(tmp_path / "smoke", planted_rows())
    code, out, err = run_cli(capsys, "report", folder, "--out", tmp_path / "out", "--benchmarks", tmp_path)
    assert code == 0, err
    assert (tmp_path / "out" / "report.md").is_file()
    assert (tmp_path / "out" / "plots" / "dropout-accuracy.png").is_file()
    assert out.strip() == f"wrote {tmp_path / 'out' / 'report.md'}"


@pytest.mark.parametrize("problem", ["no runs.csv", "unwritable out", "compare missing side"])
def test_cli_errors_are_one_line_and_exit_2(problem, tmp_path, capsys):
    folder = write_results(tmp_path / "smoke", planted_rows()) if problem != "no runs.csv" else tmp_path
    (tmp_path / "a-file").write_text("")
    argv = {
        "no runs.csv": ["report", tmp_path],
        "unwritable out": ["report", folder, "--out", tmp_path / "a-file" / "out"],
        "compare missing side": ["report", "--compare", folder, tmp_path / "nothing-here"],
    }[problem]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnn: error: "), err
    assert "Traceback" not in err


def test_performance_section_holds_the_speed_figures_and_plots_the_clock(tmp_path):
    from cnn.results.speed import speed_frame

    rows = []
    for variant, samples, clock in (("naive", 1800.0, [[2.5, 1000, 0.93], [7.0, 12000, 0.957]]),
                                    ("fast", 5400.0, [[1.0, 1024, 0.80], [3.1, 13000, 0.96]])):
        for seed in (0, 1):
            rows.append({**planted_rows()[0], "axis": "speed", "variant": variant, "seed": seed, "test_accuracy": 0.96,
                         "samples_per_s": samples, "accuracy_clock": json.dumps(clock)})
    folder = write_results(tmp_path, rows)
    runs, histories = pd.read_csv(folder / "runs.csv"), pd.read_csv(folder / "histories.csv")
    # Two epochs: the target is the naive recipe's accuracy after its last, 0.96 - 0.05 / 2 = 0.935.
    axes = json.loads((folder / "axes.json").read_text())
    speed_frame(runs, histories, {"float32": 200.0, "bfloat16": 400.0}, axes).to_csv(folder / "speed.csv", index=False)
    text = write_report(folder).read_text()
    section = text[text.index("## Performance"):]
    assert "| fast | cpu | 5,400 | 3.00 |" in section and "| 3.10 |" in section  # time to target from the clock
    assert "float32 200 GFLOP/s" in section and "2/2" in section
    assert (folder / "plots" / "speed-time-to-accuracy.png").stat().st_size > 10_000


def test_timings_come_from_benchmarks_csv_when_there_is_no_benchmarks_folder(tmp_path):
    """A fresh clone has no .benchmarks: the section must come from the results folder itself."""
    folder = write_results(tmp_path / "smoke", planted_rows())
    rows = [{"axis": r["axis"], "variant": r["variant"], "device": "cpu", "seed": r["seed"], "train_s": 5.0 + r["seed"],
             "cached": r["seed"] == 1, "benchmark_name": "mine"} for r in planted_rows()]
    pd.DataFrame(rows).to_csv(folder / "benchmarks.csv", index=False)
    text = write_report(folder, benchmarks=tmp_path / "no-such-folder").read_text()
    section = text[text.index("## Saved benchmark timings"):]
    assert "From benchmarks.csv in this folder (pytest-benchmark run saved as mine)" in section
    assert "4 of the 8 seeds came from the cache and carry the time recorded when they were trained" in section
    assert "| test_dropout[0.5] | 2 | 5.50 ± 0.71 | 5.00 | 1 |" in section


def test_the_committed_report_keeps_its_timings_without_benchmarks(tmp_path):
    """`cnn report` in a fresh clone writes the committed standard report's timings section again."""
    committed = (REPO / "results" / "standard" / "report.md").read_text()
    section = committed[committed.index("## Saved benchmark timings"):].rstrip()
    assert "| test_pooling[none] | 3 | 45.69 ± 1.70 | 43.73 |" in section
    assert benchmark_section(load_results(REPO / "results" / "standard"), tmp_path / "no-such-folder") == section


def test_report_says_what_it_is_doing_part_by_part(tmp_path, capsys):
    folder = write_results(tmp_path / "smoke", planted_rows())
    lines = []
    write_report(folder, benchmarks=None, progress=lines.append)
    assert lines[0] == f"report on {folder} (8 runs) into {folder / 'report.md'}"
    assert any(re.fullmatch(r"  dropout: 4 plots, \d+\.\d s", line) for line in lines), lines
    assert any(re.fullmatch(r"  data: 4 plots, \d+\.\d s", line) for line in lines), lines
    assert any(re.fullmatch(r"  data: data_size: 1 plot, \d+\.\d s", line) for line in lines), (
        lines
    )  # the axis' own section
    assert re.fullmatch(r"report: \d+\.\d s in all", lines[-1])
    # The command prints the same on stderr, and on stdout only what it wrote.
    code, out, err = run_cli(capsys, "report", folder, "--benchmarks", tmp_path)
    assert code == 0 and out.strip() == f"wrote {folder / 'report.md'}"
    assert "  dropout: 4 plots" in err and "s in all" in err


def test_compare_without_out_writes_its_own_folder_not_into_b(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_results(tmp_path / "results" / "smoke", planted_rows())
    write_results(tmp_path / "results" / "standard", planted_rows())
    code, out, err = run_cli(capsys, "report", "--compare", "results/smoke", "results/standard")
    assert code == 0, err
    written = Path("results/compare/smoke-vs-standard/compare.md")
    assert written.is_file() and f"wrote {written}" in out
    assert not (tmp_path / "results" / "standard" / "compare.md").exists()


@pytest.fixture
def drawn(monkeypatch) -> dict:
    """The figures the plots draw, by file name, kept after they are saved."""
    figures, save = {}, plots._save

    def keep(fig, path):
        figures[Path(path).name] = fig
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return figures


def test_accuracy_bars_zoom_where_the_variants_learn_and_keep_chance_in_sight(tmp_path, drawn):
    summary = tables.summary_frame(tables.runs_frame(planted_rows()))
    dropout = summary[summary["axis"] == "dropout"].reset_index(drop=True)
    plots.accuracy_bars(dropout, "dropout", tmp_path / "learned.png", chance=0.1)
    (ax,) = drawn["learned.png"].axes
    assert 0.9 <= ax.get_ylim()[0] < dropout["test_accuracy_mean"].min()  # 0.951 vs 0.956 gets room, not 0 to 1
    assert "zoomed" in ax.get_ylabel()
    stuck = tables.summary_frame(tables.runs_frame(planted_rows(shift={("dropout", "0.5"): -0.86})))
    plots.accuracy_bars(
        stuck[stuck["axis"] == "dropout"].reset_index(drop=True), "dropout", tmp_path / "stuck.png", chance=0.1
    )
    top, bottom = drawn["stuck.png"].axes  # a broken axis: the zoom above, 0 to past chance below
    assert top.get_ylim()[0] >= 0.9 and bottom.get_ylim()[0] == 0 and bottom.get_ylim()[1] > 0.1


def test_accuracy_vs_time_is_a_readable_size_with_every_variant_and_every_tick_label(tmp_path, drawn):
    summary = load_results(REPO / "results" / "standard").summary  # 10 axes, variants from 0.10 to 0.97
    axes = list(dict.fromkeys(summary["axis"]))
    path = plots.accuracy_vs_time(summary, axes, tmp_path / "accuracy-vs-time.png", learned_at=0.3)
    rows = -(-len(axes) // 4)  # four panels a row
    with Image.open(path) as image:
        assert image.width <= 1600 and image.height <= 420 * rows, image.size  # was 1464x1962 for 3 rows
    panels = [ax for ax in drawn["accuracy-vs-time.png"].axes if ax.get_visible()]
    assert len(panels) == len(axes)
    for ax in panels:
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()], ax.get_title()
        low, high = ax.get_ylim()
        assert low < summary["test_accuracy_mean"].min() and high > summary["test_accuracy_mean"].max(), ax.get_title()


def test_time_to_accuracy_draws_a_mean_line_per_variant_and_names_its_reference_lines(tmp_path, drawn):
    rows = [
        {
            "variant": variant,
            "seed": seed,
            "accuracy_clock": json.dumps(
                [[seconds * (1 + 0.1 * seed), images, accuracy + 0.01 * seed] for seconds, images, accuracy in clock]
            ),
        }
        for variant, clock in (
            ("naive", [[2.5, 1000, 0.93], [7.0, 2000, 0.957]]),
            ("fast", [[1.0, 1024, 0.80], [3.1, 2048, 0.96]]),
        )
        for seed in range(3)
    ]
    plots.time_to_accuracy(pd.DataFrame(rows), 0.957, 3, 8.0, tmp_path / "tta.png", "naive")
    (ax,) = drawn["tta.png"].axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert (
        labels[:2] == ["naive", "fast"] and len(labels) == 5
    )  # a line per variant (not per seed) and the 3 references
    assert len(ax.collections) == 2  # a band over the seeds per variant
    assert "target 0.9570: naive's mean test\naccuracy after 3 epochs" in labels
    assert any(label.startswith("4.0 s: half of it, where a") and "2x as fast" in label for label in labels)


def test_accuracy_against_cumulative_training_flops(reported):
    folder, text = reported
    assert "![accuracy-vs-flops](plots/accuracy-vs-flops.png)" in text
    assert (folder / "plots" / "accuracy-vs-flops.png").stat().st_size > 10_000
    curves = __import__("cnn.report.report", fromlist=["_compute_curves"])._compute_curves(load_results(folder))
    # Epoch 2 of a 4,000-image run at 11.37 MFLOP forward: 3 x 11,373,472 x 4,000 x 2.
    row = curves[(curves["variant"] == "0") & (curves["seed"] == 0) & (curves["epoch"] == 2)].iloc[0]
    assert row["flops"] == 3 * 11373472 * 4000 * 2


def test_an_axis_asking_for_gradients_gets_its_per_layer_plot(tmp_path):
    folder = write_results(tmp_path / "smoke", planted_rows())
    histories = pd.read_csv(folder / "histories.csv", dtype={"variant": str})
    histories["grad_norm/conv1"] = np.where(histories["variant"] == "0.5", 1e-4, 0.3) / histories["epoch"]
    histories["grad_norm/logits"] = 0.5
    histories.to_csv(folder / "histories.csv", index=False)
    records = json.loads((folder / "axes.json").read_text())
    records[0]["sections"] = ["gradients"]  # dropout asks for it; data does not
    (folder / "axes.json").write_text(json.dumps(records))
    text = write_report(folder, benchmarks=None).read_text()
    assert "![dropout-gradients](plots/dropout-gradients.png)" in text
    assert not (folder / "plots" / "data-gradients.png").exists()


def test_the_photos_section_tables_photo_accuracy_and_draws_seed_0s_failures(tmp_path):
    from cnn.results.store import save_evaluation_arrays as save

    planted = {"seed-cnn": (0.90, 0.92), "photo-cnn": (0.96, 0.95)}  # photo accuracy per seed
    rows = [
        {
            **planted_rows()[0],
            "axis": "photos",
            "variant": variant,
            "seed": seed,
            "photo_accuracy": accuracy,
            "run_key": f"{variant}-{seed}",
        }
        for variant, accuracies in planted.items()
        for seed, accuracy in enumerate(accuracies)
    ]
    folder = write_results(tmp_path / "smoke", rows)
    digits = load_dataset("mnist-5k")
    wrong = np.arange(10)  # seed-cnn's seed 0 read 10 of 100 wrong; planted as test digits, surest mistake last
    save(
        folder,
        "photos",
        "photos",
        "seed-cnn",
        {
            "images": digits.x_test[wrong, ..., 0],
            "labels": digits.y_test[wrong],
            "predicted": (digits.y_test[wrong] + 1) % 10,
            "confidence": np.linspace(0.3, 0.9, 10),
            "index": wrong * 7,
            "photos": np.asarray(100),
        },
        run_key="seed-cnn-0",
    )
    # photo-cnn's file is of another run (older code): it must not be drawn as seed 0's.
    save(
        folder,
        "photos",
        "photos",
        "photo-cnn",
        {
            "images": digits.x_test[:4, ..., 0],
            "labels": digits.y_test[:4],
            "predicted": digits.y_test[4:8],
            "confidence": np.ones(4),
            "index": np.arange(4),
            "photos": np.asarray(100),
        },
        run_key="stale",
    )
    text = write_report(folder, benchmarks=None).read_text()
    section = text[text.index("### Photos"):]
    assert "held-out test digits" in section and "What it is not: real camera photos." in section
    assert "| seed-cnn | cpu | 2 | 0.9100 ± 0.0141 | 90 of 100 |" in section
    assert "| photo-cnn | cpu | 2 | 0.9550 ± 0.0071 | n/a |" in section
    assert "photos-photos-photo-cnn.npz is of another run than seed 0's" in section
    assert "![photos-seed-cnn-failures](plots/photos-seed-cnn-failures.png)" in section
    assert not (folder / "plots" / "photos-photo-cnn-failures.png").exists()
    grid = np.asarray(Image.open(folder / "plots" / "photos-seed-cnn-failures.png").convert("L"))
    assert grid.std() > 20  # ten digits drawn, not a blank canvas


def test_the_grid_of_mistakes_comes_from_the_first_variant_with_errors_arrays(tmp_path):
    from cnn.results.store import save_evaluation_arrays

    folder = write_results(tmp_path / "smoke", planted_rows(), base_errors=False)
    records = json.loads((folder / "axes.json").read_text())
    records[1]["evaluations"] = ["errors"]  # data asks for it
    (folder / "axes.json").write_text(json.dumps(records))
    text = write_report(folder, benchmarks=None).read_text()
    assert "No errors arrays in this folder although data runs the errors evaluation" in text
    save_evaluation_arrays(
        folder,
        "errors",
        "data",
        "100%",
        {
            "test_index": np.array([3, 17, 42]),
            "true": np.array([1, 2, 3]),
            "predicted": np.array([7, 3, 5]),
            "confidence": np.array([0.9, 0.6, 0.7]),
        },
    )
    text = write_report(folder, benchmarks=None).read_text()
    assert "![base-errors](plots/base-errors.png)" in text and "No errors arrays" not in text
    assert (folder / "plots" / "base-errors.png").stat().st_size > 5_000


def test_the_header_states_the_recipe_the_seed_policy_and_the_wall_time():
    from cnn.report.report import _recipe_text, _seeds_text, _wall_text

    full = {"epochs": 2, "recipe": {"precision": "mixed_bfloat16", "batch_size": 512}, "effect_seeds": 3,
            "wall_s": 5730.0, "rows_this_session": 148}
    assert _recipe_text(full) == ("base: the notebook's seed CNN on this profile's recipe (precision=mixed_bfloat16, "
                                  "batch_size=512), 2 epochs; every axis but speed (which compares recipes) starts "
                                  "from it, and a variant's own changes win over it")
    assert _recipe_text({"epochs": 5}).startswith("base: the notebook's seed CNN and recipe, 5 epochs")
    assert _seeds_text(full, 2).startswith("2, and 3 for each variant an effect compares: fixed before the run")
    assert _seeds_text({"effect_seeds": 2}, 2) == "2"
    assert (
        _wall_text(full)
        == "- wall time of the run that wrote this folder: 95.5 min (148 runs trained or read from the cache)\n"
    )
    assert _wall_text({}) == ""  # a folder written before run.json kept it


def test_the_header_names_an_own_model_and_reads_threads_0_as_tensorflows_default():
    from cnn.report.report import _machine_text, _recipe_text

    own = [{"name": "width", "base": "SeparableConfig", "model": "separable"}]
    assert _recipe_text({"epochs": 3}, own) == ("base: the separable model (SeparableConfig) and its config, 3 epochs "
                                                "(an axis may set its own)")
    built_in = [{"name": "dropout", "base": "seed-cnn", "model": "cnn"}, {"name": "data"}]
    assert _recipe_text({"epochs": 5}, built_in).startswith("base: the notebook's seed CNN and recipe, 5 epochs")
    assert _machine_text({"cpus": "2", "threads": "0"}) == "cpus 2, threads: TensorFlow's default (all 2 cores)"
    assert _machine_text({"cpus": "2", "threads": "1"}) == "cpus 2, threads 1"


def test_compare_says_how_many_could_be_judged_and_why_not(tmp_path):
    a, b = write_results(tmp_path / "a", planted_rows(seeds=1)), write_results(tmp_path / "b", planted_rows(seeds=1))
    text, _ = write_compare(a, b, tmp_path / "out")
    assert ("Test accuracy could be judged for none of the 4 variants run on both sides: each has one seed on a side, "
            "so the seed spread is unknown; run both with --ablation-seeds 2 or more.") in text
    assert "changed (Holm-adjusted p <= 0.05) for 0" not in text
    c = write_results(tmp_path / "c", planted_rows(shift={("data", "100%"): -0.05}))
    text, _ = write_compare(write_results(tmp_path / "d", planted_rows()), c, tmp_path / "out2")
    assert ("Test accuracy changed (Holm-adjusted p <= 0.05) for 1 of the 4 variants judged (4 run on both sides): "
            "data[100%] (cpu) -0.0500.") in text


def test_compare_says_when_the_sides_trained_different_epochs(tmp_path):
    a, b = write_results(tmp_path / "a", planted_rows()), write_results(tmp_path / "b", planted_rows())
    info = json.loads((b / "run.json").read_text())
    (b / "run.json").write_text(json.dumps({**info, "epochs": 5}))
    (a / "run.json").write_text(json.dumps({**info, "epochs": 2}))
    text, _ = write_compare(a, b, tmp_path / "out")
    assert ("> The two sides were run with different settings (epochs: A 2, B 5): a change below may come from "
            "those, not from the code.") in text
    same, _ = write_compare(a, a, tmp_path / "out2")
    assert "different settings" not in same


@pytest.mark.parametrize("profile", ["standard", "full", "study", "study-60k"])
def test_the_committed_report_is_what_the_generator_writes_now(profile, tmp_path, monkeypatch):
    """`cnn report` in a fresh clone leaves git clean: results/<profile>/report.md re-rendered from
    its folder is the committed text (the plots are drawn but not encoded as PNG: encoding took 46 of
    each profile's 60 s here, and the plots' own tests check what they draw)."""
    from cnn.errors import CnnError
    from cnn.report import plots

    monkeypatch.setattr(plots, "_save", lambda fig, path: plots.write_atomic(path, b""))

    folder = REPO / "results" / profile
    if profile in ("full", "study-60k"):  # its chance level, statuses and digit grids need Fashion-MNIST itself
        try:
            load_dataset("fashion-mnist")
        except CnnError:
            pytest.skip("Fashion-MNIST is not installed here (apt-get install dataset-fashion-mnist)")
    written = write_report(folder, out=tmp_path, benchmarks=tmp_path / "no-saved-runs").read_text()
    assert written == (folder / "report.md").read_text()


def test_the_header_says_which_code_trained_the_rows_and_warns_when_versions_mix():
    from cnn.report.report import _regimes_text, _trained_by_text

    runs = pd.DataFrame({"axis": ["a", "a", "b"], "source": ["s1", "s1", "s2"], "commit": ["c1", "c1", "c2+dirty"]})
    text = _trained_by_text(runs)
    assert "- trained by: training code s1 (commit c1): 2 rows of a" in text
    assert "training code s2 (commit c2+dirty): 1 rows of b" in text and "more than one version" in text
    one = _trained_by_text(runs[runs["source"] == "s1"])
    assert one == "- trained by: training code s1 (commit c1): 2 rows\n"
    assert "not recorded" in _trained_by_text(pd.DataFrame({"axis": ["a"]}))
    records = [{"name": "dropout", "regimes": {"pilot": {"epochs": 20, "seeds": 3, "recipe": {}, "why": "it overfits"}},
                "variants": [{"id": "0"}]},
               {"name": "data", "variants": [{"id": "10%-steps", "budget": "steps"}]}]
    regimes = _regimes_text("pilot", records)
    assert "- regime of the dropout axis: 20 epochs, 3 seeds: it overfits\n" in regimes
    assert "- data: 10%-steps train as many optimizer steps as the whole training set" in regimes
    assert _regimes_text("smoke", records[:1]) == ""
    one_seed = [{"name": "activation", "regimes": {"pilot": {"epochs": 5, "seeds": 1, "effect_seeds": 5}}}]
    assert _regimes_text("pilot", one_seed).startswith("- regime of the activation axis: 5 epochs, 1 seed, 5 for ")


def test_the_header_says_which_cpu_trained_which_rows():
    from cnn.report.report import _cpus_text

    runs = pd.DataFrame({"axis": ["pooling", "pooling", "dense"], "cpu_model": ["Intel Xeon", "AMD EPYC", "AMD EPYC"]})
    assert _cpus_text(runs) == ("- CPUs: Intel Xeon: 1 rows of pooling; AMD EPYC: 2 rows of pooling, dense "
                                "(a time claim compares times of one CPU)\n")
    assert _cpus_text(runs[runs["axis"] == "dense"]) == "- CPU: AMD EPYC (every row)\n"
    assert _cpus_text(pd.DataFrame({"axis": ["a"]})) == "- CPU: not recorded in runs.csv\n"
    older = pd.DataFrame({"axis": ["a", "b"], "cpu_model": ["AMD EPYC", None]})
    assert _cpus_text(older) == ("- CPUs: AMD EPYC: 1 rows of a; not recorded: 1 rows of b "
                                 "(a time claim compares times of one CPU)\n")


def test_a_choice_on_the_validation_split_is_one_line_under_its_axis():
    import pandas as pd

    from cnn.report.report import _choices

    runs = pd.DataFrame({"variant": ["sgd", "sgd", "adam"], "device": ["cpu"] * 3,
                         "choice": ["learning_rate 0.03 chosen on the validation split (...)"] * 2 + [None]})
    assert _choices(runs) == ["- sgd: learning_rate 0.03 chosen on the validation split (...)"]
    assert _choices(runs.drop(columns="choice")) == []
