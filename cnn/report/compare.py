"""`cnn report --compare A B`: what changed between two runs, per variant, beyond the seed spread.

A and B are results folders (their runs.csv) or saved pytest-benchmark JSON files (each entry's
extra_info). A change is flagged with the guard's rule for effects: |mean B - mean A| greater than
2 * sqrt(sA^2/nA + sB^2/nB). Where a side has a single seed its spread is unknown and nothing is
flagged.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from cnn.errors import CnnError
from cnn.files import read_json, write_atomic
from cnn.report.report import DEFAULT_RESULTS, benchmark_runs, fmt, grid_order, load_results, writable_folder
from cnn.results.judge import EFFECT_FACTOR

METRICS = ("test_accuracy", "steady_epoch_s")
KEYS = ["axis", "variant", "device"]


def load_side(path: str | Path) -> pd.DataFrame:
    """One side as rows per variant and seed (axis, variant, device, seed and METRICS).
    Raises CnnError when it is neither a results folder nor a saved benchmark run with results."""
    path = Path(path)
    if path.is_dir():
        runs = load_results(path).runs
    elif path.is_file():
        data = read_json(path)
        if not isinstance(data, dict) or "benchmarks" not in data:
            raise CnnError(
                f"{path} is not a saved pytest-benchmark run (JSON with 'benchmarks'); give it or a results folder"
            )
        runs = benchmark_runs(data)
        if runs.empty:
            raise CnnError(f"{path} holds no ablation benchmarks (none has axis and variant in extra_info)")
    else:
        raise CnnError(
            f"{path} does not exist; give a results folder (e.g. results/smoke) or a saved .benchmarks JSON file"
        )
    return runs.reindex(columns=[*KEYS, "seed", *METRICS])


def compare(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Per variant and device: each metric's mean, std and n on both sides, the change (B - A),
    the change allowed by the spread, and a verdict: 'beyond spread', 'within spread',
    'spread unknown', 'only in A' or 'only in B'."""
    sides = [_stats(a).add_suffix("_a"), _stats(b).add_suffix("_b")]
    frame = pd.concat(sides, axis=1, join="outer").reset_index()
    for metric in METRICS:
        frame[f"{metric}_delta"] = frame[f"{metric}_mean_b"] - frame[f"{metric}_mean_a"]
        allowed, verdicts = [], []
        for r in frame.itertuples():
            limit, verdict = _verdict(
                *(getattr(r, f"{metric}_{s}") for s in ("mean_a", "std_a", "n_a", "mean_b", "std_b", "n_b"))
            )
            allowed.append(limit)
            verdicts.append(verdict)
        frame[f"{metric}_allowed"] = allowed
        frame[f"{metric}_verdict"] = verdicts
    return grid_order(frame)


def _stats(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby(KEYS, sort=False)
    parts = [
        grouped[m].agg(["mean", "std", "count"]).rename(columns={"count": "n"}).add_prefix(f"{m}_") for m in METRICS
    ]
    return pd.concat(parts, axis=1)


def _verdict(mean_a, std_a, n_a, mean_b, std_b, n_b) -> tuple[float, str]:
    """(allowed |change|, verdict) by the guard's rule."""
    if pd.isna(mean_a) or pd.isna(mean_b):
        return math.nan, "only in B" if pd.isna(mean_a) else "only in A"
    if pd.isna(std_a) or pd.isna(std_b) or n_a < 2 or n_b < 2:
        return math.nan, "spread unknown"
    allowed = EFFECT_FACTOR * math.sqrt(std_a**2 / n_a + std_b**2 / n_b)
    return allowed, "beyond spread" if abs(mean_b - mean_a) > allowed else "within spread"


def markdown(frame: pd.DataFrame, name_a: str, name_b: str) -> str:
    """The comparison as a markdown table (printed by the CLI and written as compare.md)."""
    lines = [
        f"# Comparison: A = {name_a}, B = {name_b}",
        "",
        f"Change = B - A of the means over seeds. Flagged **beyond spread** where |change| > {EFFECT_FACTOR:g} x "
        "sqrt(sA²/nA + sB²/nB); 'spread unknown' where a side has one seed.",
        "",
        "| axis | variant | device | n A/B | test acc A | test acc B | change | verdict "
        "| epoch s A | epoch s B | change | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in frame.to_dict("records"):
        cells = [
            r["axis"],
            r["variant"],
            r["device"],
            f"{_count(r['test_accuracy_n_a'])}/{_count(r['test_accuracy_n_b'])}",
        ]
        for metric in METRICS:
            verdict = r[f"{metric}_verdict"]
            cells += [
                fmt(metric, r[f"{metric}_mean_a"], r[f"{metric}_std_a"]),
                fmt(metric, r[f"{metric}_mean_b"], r[f"{metric}_std_b"]),
                _signed(metric, r[f"{metric}_delta"]),
                f"**{verdict}**" if verdict == "beyond spread" else verdict,
            ]
        lines.append("| " + " | ".join(cells) + " |")
    flagged = frame[frame["test_accuracy_verdict"] == "beyond spread"]
    both = (~frame["test_accuracy_verdict"].str.startswith("only in")).sum()
    lines += [
        "",
        f"Test accuracy changed beyond the seed spread for {len(flagged)} of the {both} variants run on both sides"
        + (
            ": "
            + ", ".join(
                f"{a}[{v}] ({d}) {_signed('test_accuracy', x)}"
                for a, v, d, x in zip(
                    flagged["axis"], flagged["variant"], flagged["device"], flagged["test_accuracy_delta"]
                )
            )
            if len(flagged)
            else ""
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def default_out(a: str | Path, b: str | Path, root: Path = DEFAULT_RESULTS / "compare") -> Path:
    """Where a comparison goes without --out: its own folder, results/compare/<A>-vs-<B>/, so it
    never writes into (or over) either side's results."""
    names = [_side_name(Path(p)) for p in (a, b)]
    if names[0] == names[1]:  # results/standard against other/standard: tell them apart by their parents
        names = [f"{Path(p).resolve().parent.name}-{name}" for p, name in zip((a, b), names)]
    return root / f"{names[0]}-vs-{names[1]}"


def _side_name(path: Path) -> str:
    return path.resolve().name if path.is_dir() else path.stem  # a folder's name; a saved run's file name without .json


def write_compare(a: str | Path, b: str | Path, out: str | Path | None = None) -> tuple[str, list[Path]]:
    """Compare A with B and write compare.md and compare.csv into `out` (default: default_out(a, b)).
    Returns (the markdown, the paths written); raises CnnError on an unreadable side or `out`."""
    frame = compare(load_side(a), load_side(b))
    text = markdown(frame, str(a), str(b))
    folder = writable_folder(Path(out) if out is not None else default_out(a, b))
    written = [write_atomic(folder / "compare.md", text),
               write_atomic(folder / "compare.csv", frame.to_csv(index=False, float_format="%.6g"))]
    return text, written


def _count(n) -> str:
    return "0" if pd.isna(n) else str(int(n))


def _signed(metric: str, value: float) -> str:
    if pd.isna(value):
        return "n/a"
    text = fmt(metric, abs(value))
    return ("-" if value < 0 else "+") + text.lstrip("+")
