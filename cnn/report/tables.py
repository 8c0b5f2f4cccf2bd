"""Results as pandas: a row per variant and seed, a summary per variant (mean, std, n over seeds),
per-epoch histories, the CSV files they are written to, and the per-axis text table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cnn.files import write_atomic

RUN_COLUMNS = [
    "profile", "axis", "variant", "device", "seed", "status", "diverged_epoch",
    "train_accuracy", "test_accuracy", "train_loss", "test_loss", "accuracy_gap", "loss_gap",
    "first_epoch_s", "steady_epoch_s", "samples_per_s", "fit_s", "train_s", "params", "flops_per_sample",
    "n_train", "epochs", "dataset", "cached", "parallel",
    "node", "host", "cpu_model", "threads",  # where it trained: Ray's node id (or "local"), host, CPU, TensorFlow threads
    "rss_mb", "peak_rss_mb", "config_key", "run_key", "created",
    "accuracy_clock",  # JSON [[training s, images, test accuracy], ...]: the speed axis' time-to-accuracy
    "grad_norm_first_conv",  # the first conv kernel's gradient norm after the last epoch (histories.csv has every layer's)
    "photo_accuracy",  # share of the photo benchmark read right (axes with evaluations=("photos",); cnn.ablate.evaluations)
]
METRICS = [
    "test_accuracy", "train_accuracy", "test_loss", "train_loss", "accuracy_gap", "loss_gap",
    "first_epoch_s", "steady_epoch_s", "samples_per_s", "grad_norm_first_conv", "photo_accuracy",
]
HISTORY_COLUMNS = ["profile", "axis", "variant", "device", "seed", "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_s"]
# Per-layer columns after those, one per kernel the run has (cnn.train.GradientProbe): `grad_norm/conv1`, ...
HISTORY_LAYER_PREFIXES = ("grad_norm/", "update_ratio/")
KEYS = ["axis", "variant", "device"]


def read_csv(path: Path) -> pd.DataFrame:
    """A results CSV as written here; variant ids stay text ("0" is not the number 0)."""
    return pd.read_csv(path, dtype={"axis": str, "variant": str, "device": str})


def runs_frame(rows: list[dict], order: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per variant and seed, in grid order (`order`: (axis, variant) pairs) when given."""
    frame = pd.DataFrame(rows).reindex(columns=RUN_COLUMNS)
    if order and not frame.empty:
        rank = {pair: i for i, pair in enumerate(order)}
        frame["_rank"] = [rank.get((a, v), len(rank)) for a, v in zip(frame["axis"], frame["variant"])]
        frame = frame.sort_values(["_rank", "device", "seed"], kind="stable").drop(columns="_rank")
    return frame.reset_index(drop=True)


def summary_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant and device: mean, std and n over seeds of each metric, plus params and status."""
    if runs.empty:
        return pd.DataFrame()
    grouped = runs.groupby(KEYS, sort=False)
    # mean() and std() apart: .agg() trips over the grouping column called "axis" (pandas looks up .axis).
    stats = pd.concat([grouped[METRICS].mean().add_suffix("_mean"), grouped[METRICS].std().add_suffix("_std")], axis=1)
    stats = stats[[f"{m}_{s}" for m in METRICS for s in ("mean", "std")]]
    stats["n"] = grouped.size()
    stats["params"] = grouped["params"].first()
    stats["diverged"] = grouped["status"].apply(lambda s: int((s == "diverged").sum()))
    # "True" after a round trip through CSV; the terminal table marks what this session did not train.
    stats["cached"] = grouped["cached"].apply(lambda s: int(s.astype(str).eq("True").sum()))
    return stats.reset_index()


def history_frame(histories: list[dict]) -> pd.DataFrame:
    """Per-epoch rows: HISTORY_COLUMNS, then the per-layer gradient columns of whichever runs have them,
    grouped by prefix, layers in network order (empty where a run has no such layer)."""
    layers: list[str] = []
    for row in histories:  # each run lists its layers in order: merge them (conv2 of a deeper run after conv1)
        previous = -1
        for name in dict.fromkeys(k.split("/", 1)[1] for k in row if k.startswith(HISTORY_LAYER_PREFIXES)):
            if name not in layers:
                layers.insert(previous + 1, name)
            previous = layers.index(name)
    present = {key for row in histories for key in row}
    layered = [prefix + name for prefix in HISTORY_LAYER_PREFIXES for name in layers if prefix + name in present]
    return pd.DataFrame(histories).reindex(columns=HISTORY_COLUMNS + layered)


def write_csvs(folder: Path, runs: pd.DataFrame, summary: pd.DataFrame, histories: pd.DataFrame) -> list[Path]:
    """runs.csv, summary.csv and histories.csv in `folder`, each written atomically."""
    out = []
    for name, frame in (("runs", runs), ("summary", summary), ("histories", histories)):
        out.append(write_atomic(folder / f"{name}.csv", frame.to_csv(index=False, float_format="%.6g")))
    return out


def axis_tables(summary: pd.DataFrame) -> str:
    """The per-axis table printed at the end of a run: mean +/- std over seeds."""
    if summary.empty:
        return "no ablation results in this run"
    blocks = []
    for axis, rows in summary.groupby("axis", sort=False):
        lines = [f"{axis}", f"  {'variant':<22} {'dev':<4} {'n':>2} {'test acc':>16} {'train acc':>8} {'acc gap':>8} "
                 f"{'loss gap':>8} {'epoch s':>8} {'samples/s':>9} {'params':>10}  from"]
        for _, r in rows.iterrows():
            flag = "  " + _source(int(r["cached"]), int(r["n"])) + ("  DIVERGED" if r["diverged"] else "")
            lines.append(
                f"  {r['variant']:<22} {r['device']:<4} {r['n']:>2} {_pm(r['test_accuracy_mean'], r['test_accuracy_std']):>16} "
                f"{r['train_accuracy_mean']:>8.4f} {r['accuracy_gap_mean']:>+8.4f} {r['loss_gap_mean']:>+8.4f} "
                f"{r['steady_epoch_s_mean']:>8.2f} {r['samples_per_s_mean']:>9,.0f} {int(r['params']):>10,}{flag}"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _source(cached: int, n: int) -> str:
    """Where a variant's rows came from: trained in this session, the cache (times recorded when
    they were trained), or both."""
    if cached == 0:
        return "trained"
    return "cache" if cached == n else f"cache {cached}/{n}"


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f}" if pd.isna(std) else f"{mean:.4f}+/-{std:.4f}"
