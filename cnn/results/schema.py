"""What a results folder holds: its file names and the order of their columns, for the writer
(the session) and the reader (the report) alike, so neither spells a file name of its own.

Columns a row has beyond these are kept, after the known ones, never dropped: a metric of an
evaluation of your own reaches runs.csv and summary.csv without an edit here.
"""

from __future__ import annotations

from pathlib import Path

from cnn.errors import CnnError
from cnn.results.metrics import metrics

RUNS_CSV = "runs.csv"  # one row per variant, device and seed
SUMMARY_CSV = "summary.csv"  # per variant and device: mean, std and n over seeds
HISTORIES_CSV = "histories.csv"  # per run and epoch
BENCHMARKS_CSV = "benchmarks.csv"  # the training time per seed that pytest-benchmark saw (.benchmarks is not in git)
AXES_JSON = "axes.json"  # each axis' record (Axis.record()): question, variants, effects, sections, reference
EFFECTS_CSV = "effects.csv"  # every axis' effects judged on the merged runs
RUN_JSON = "run.json"  # the session that wrote the folder: profile, data, seeds, machine, versions, commit
SPEED_CSV = "speed.csv"  # the speed figures of each axis with a "speed" section
METRICS_JSON = "metrics.json"  # the declaration of each metric column, so any reader formats it as declared
REPORT_MD = "report.md"
PLOTS = "plots"  # the report's PNGs, beside report.md
BASELINE_JSON = "baseline.json"  # beside the profile folders (results/baseline.json): the regression guard's
BASE_ERRORS_CSV = "base_errors.csv"  # older folders: the base model's mistakes, before the errors evaluation

KEYS = ["axis", "variant", "device"]  # a variant on a device: what summary.csv has one row of
RUN_KEYS = KEYS + ["seed"]  # one run
# runs.csv: these first, in this order (the metrics cnn.train measures among them), then every other
# registered metric, then any other column a row has, in the order first seen.
RUN_COLUMNS = [
    "profile",
    "axis",
    "variant",
    "device",
    "seed",
    "status",
    "diverged_epoch",
    "train_accuracy",
    "test_accuracy",
    "learned",  # 1 where test accuracy left chance (>= 3x), else 0: two-state outcomes are k of n seeds
    "train_loss",
    "test_loss",
    "accuracy_gap",
    "loss_gap",
    "first_epoch_s",
    "steady_epoch_s",
    "samples_per_s",
    "fit_s",
    "train_s",
    "params",
    "flops_per_sample",
    "n_train",
    "epochs",
    "dataset",
    "cached",
    "parallel",
    "node",
    "host",
    "cpu_model",
    "threads",  # where it trained: Ray's node id (or "local"), host, CPU, TensorFlow threads
    "contended",  # other processes used > 1/4 core while it trained: its times are not a quiet machine's
    "cpu_s",  # this run's CPU seconds in fit (every thread)
    "others_cpu_s",  # every other process's CPU seconds over the same span
    "load_avg",  # the 1-minute load average when fit ended
    "n_val",  # the validation split's images (0: validated on the test set)
    "rss_mb",
    "peak_rss_mb",
    "config_key",
    "run_key",
    "source",  # the training code's meaning hash (cnn.ablate.cache.source_hash): rows of two differ in code
    "commit",  # the checkout's commit that trained it ("+dirty": with uncommitted changes)
    "created",
    "accuracy_clock",  # JSON [[training s, images, test accuracy], ...]: the speed axis' time-to-accuracy
    # the first conv kernel's gradient norm after the last epoch (histories.csv has every layer's)
    "grad_norm_first_conv",
    "precision",  # the run's config precision (float32, mixed_bfloat16, ...): which matmul peak its GFLOP/s are of
]
HISTORY_COLUMNS = [
    "profile",
    "axis",
    "variant",
    "device",
    "seed",
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "train_fit_loss",  # on a fixed training subset in inference mode: what the final train accuracy measures
    "train_fit_accuracy",
    "epoch_s",
]
# Per-layer columns after those, one per kernel the run has (cnn.train.GradientProbe): `grad_norm/conv1`, ...
HISTORY_LAYER_PREFIXES = ("grad_norm/", "update_ratio/")
BENCHMARK_COLUMNS = ["axis", "variant", "device", "seed", "train_s", "cached", "benchmark_name"]
# effects.csv: the claim, its verdict, the estimate (high - low; a ratio high / low on the log scale)
# with its 95% interval, the Holm-adjusted one-sided p, the test and its df, n a side, the claim's
# smallest change that matters, what an undetermined one would need, the family's size, the line.
EFFECT_COLUMNS = ["axis", "device", "metric", "low", "high", "claim", "verdict", "estimate", "ci_low", "ci_high",
                  "p_adj", "test", "df", "n_low", "n_high", "min_effect", "scale", "seeds_needed",
                  "smallest_detectable", "family", "reason", "text"]
# Required of a CSV for it to be read as such (the rest is optional).
RUN_REQUIRED = ("axis", "variant", "device", "seed", "test_accuracy")
SUMMARY_REQUIRED = ("axis", "variant", "device", "test_accuracy_mean")
HISTORY_REQUIRED = ("axis", "variant", "device", "seed", "epoch", "accuracy", "val_accuracy")
BENCHMARK_REQUIRED = (
    "axis",
    "variant",
    "device",
    "train_s",
)  # optional: seed, cached, benchmark_name, saved_file, saved_datetime, note
SPEED_REQUIRED = ("device", "variant", "samples_per_s", "speedup", "time_to_target_s")
TEXT_COLUMNS = {"axis": str, "variant": str, "device": str}  # variant ids stay text ("0" is not the number 0)


def evaluation_npz(evaluation: str, axis: str, variant: str) -> str:
    """The file of an evaluation's arrays for seed 0 of a variant: `<evaluation>-<axis>-<variant>.npz`."""
    return f"{evaluation}-{axis}-{variant}.npz"


def run_columns(present) -> list[str]:
    """runs.csv's columns for rows that have `present`: RUN_COLUMNS, the other registered metrics,
    then the rest of `present` in its order."""
    known = RUN_COLUMNS + [m.name for m in metrics() if m.name not in RUN_COLUMNS]
    return known + [c for c in dict.fromkeys(present) if c not in known]


def ordered(columns, known: list[str]) -> list[str]:
    """`columns` with those in `known` first, in known's order, then the others as they come."""
    columns = list(dict.fromkeys(columns))
    return [c for c in known if c in columns] + [c for c in columns if c not in known]


def check_results_folder(folder: str | Path) -> Path:
    """`folder` as a Path when it holds a runs.csv (checked before pandas and matplotlib load, so a
    wrong folder is a fast one-line error). Raises CnnError naming the folder otherwise."""
    folder = Path(folder)
    if not (folder / RUNS_CSV).is_file():
        raise CnnError(
            f"{folder} has no {RUNS_CSV}; give a results folder the ablation suite wrote (e.g. results/smoke)"
        )
    return folder
