"""Results as pandas: a row per variant and seed, a summary per variant (mean, std, n over seeds),
per-epoch histories, the CSV files they are written to, and the per-axis text table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cnn.files import write_atomic
from cnn.results import schema
from cnn.results.format import fmt
from cnn.results.metrics import summarised
from cnn.results.schema import HISTORY_COLUMNS, RUN_COLUMNS  # noqa: F401  (the column lists, where they were)

KEYS = schema.KEYS


def read_csv(path: Path) -> pd.DataFrame:
    """A results CSV as written here; variant ids stay text ("0" is not the number 0)."""
    return pd.read_csv(path, dtype=schema.TEXT_COLUMNS)


def runs_frame(rows: list[dict], order: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per variant and seed, in grid order (`order`: (axis, variant) pairs) when given.
    Columns: schema.run_columns (the known ones in order, then every other column a row has)."""
    frame = pd.DataFrame(rows)
    frame = frame.reindex(columns=schema.run_columns(frame.columns))
    if order and not frame.empty:
        rank = {pair: i for i, pair in enumerate(order)}
        frame["_rank"] = [rank.get((a, v), len(rank)) for a, v in zip(frame["axis"], frame["variant"])]
        frame = frame.sort_values(["_rank", "device", "seed"], kind="stable").drop(columns="_rank")
    return frame.reset_index(drop=True)


def summary_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant and device: mean, std and n over seeds of each registered metric in `runs`, then
    the value of each deterministic one (params, FLOPs), the diverged and the cached count."""
    if runs.empty:
        return pd.DataFrame()
    averaged, fixed = summarised(runs.columns)
    grouped = runs.groupby(KEYS, sort=False)
    numbers = runs[averaged].apply(pd.to_numeric, errors="coerce").groupby([runs[k] for k in KEYS], sort=False)
    # mean() and std() apart: .agg() trips over the grouping column called "axis" (pandas looks up .axis).
    stats = pd.concat([numbers.mean().add_suffix("_mean"), numbers.std().add_suffix("_std")], axis=1)
    stats = stats[[f"{m}_{s}" for m in averaged for s in ("mean", "std")]]
    stats["n"] = grouped.size()
    for name in fixed:
        stats[name] = grouped[name].first()
    stats["diverged"] = grouped["status"].apply(lambda s: int((s == "diverged").sum()))
    # "True" after a round trip through CSV; the terminal table marks what this session did not train.
    stats["cached"] = grouped["cached"].apply(lambda s: int(s.astype(str).eq("True").sum()))
    return stats.reset_index()


def history_frame(histories: list[dict]) -> pd.DataFrame:
    """Per-epoch rows: HISTORY_COLUMNS, then the per-layer gradient columns of whichever runs have them,
    grouped by prefix, layers in network order (empty where a run has no such layer), then any other
    column a row has."""
    layers: list[str] = []
    for row in histories:  # each run lists its layers in order: merge them (conv2 of a deeper run after conv1)
        previous = -1
        for name in dict.fromkeys(k.split("/", 1)[1] for k in row if k.startswith(schema.HISTORY_LAYER_PREFIXES)):
            if name not in layers:
                layers.insert(previous + 1, name)
            previous = layers.index(name)
    present = list(dict.fromkeys(key for row in histories for key in row))
    layered = [prefix + name for prefix in schema.HISTORY_LAYER_PREFIXES for name in layers if prefix + name in present]
    known = schema.HISTORY_COLUMNS + layered
    return pd.DataFrame(histories).reindex(columns=known + [c for c in present if c not in known])


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """`frame` as CSV at `path`, atomically, at the precision every results CSV has."""
    return write_atomic(path, frame.to_csv(index=False, float_format="%.6g"))


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
                f"  {r['variant']:<22} {r['device']:<4} {r['n']:>2} "
                f"{_pm(r['test_accuracy_mean'], r['test_accuracy_std']):>16} "
                f"{fmt('train_accuracy', r['train_accuracy_mean']):>8} "
                f"{fmt('accuracy_gap', r['accuracy_gap_mean']):>8} "
                f"{fmt('loss_gap', r['loss_gap_mean']):>8} {fmt('steady_epoch_s', r['steady_epoch_s_mean']):>8} "
                f"{fmt('samples_per_s', r['samples_per_s_mean']):>9} {fmt('params', r['params']):>10}{flag}"
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
    text = fmt("test_accuracy", mean)
    return text if pd.isna(std) else f"{text}+/-{fmt('test_accuracy', std, sign=False)}"
