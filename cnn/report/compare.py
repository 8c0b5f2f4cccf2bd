"""`cnn report --compare A B`: what changed between two runs, per variant, beyond the seed spread.

A and B are results folders (their runs.csv) or saved pytest-benchmark JSON files (each entry's
extra_info). Each variant's metric is compared by Welch's t, two-sided (epoch times on log10
values: the change is a ratio), with Holm's correction over every comparison of the table, so that
two runs of unchanged code flag any change at all with probability <= 5%. Where a side has a single
seed its spread is unknown and nothing is flagged. Before the table it says where the two sides
were run differently (run.json's profile settings: epochs, seeds, recipe, data), since a change may
then come from those and not the code.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cnn.errors import CnnError
from cnn.files import read_json, write_atomic
from cnn.report.report import DEFAULT_RESULTS, benchmark_runs, fmt, grid_order, load_results, writable_folder
from cnn.results import stats
from cnn.results.format import change
from cnn.results.metrics import described

METRICS = ("test_accuracy", "steady_epoch_s")
MARGINS = {"test_accuracy": 0.01, "steady_epoch_s": 1.1}  # only for stats.compare's TOST, which is not reported
KEYS = ["axis", "variant", "device"]
SETTINGS = ("profile", "dataset", "dataset_fingerprint", "epochs", "seeds", "effect_seeds", "recipe",
            "target_accuracy")  # run.json's fields that change what a run measures


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


def load_settings(path: str | Path) -> dict:
    """The profile settings one side was run with (SETTINGS from run.json, the epochs from runs.csv
    where run.json lacks them); {} for a saved benchmark run, which records none of them."""
    path = Path(path)
    if not path.is_dir():
        return {}
    results = load_results(path)
    settings = {k: results.info[k] for k in SETTINGS if results.info.get(k) not in (None, "", {})}
    if "epochs" not in settings and "epochs" in results.runs:
        settings["epochs"] = ", ".join(str(e) for e in sorted(results.runs["epochs"].dropna().unique()))
    return settings


def setting_differences(a: dict, b: dict) -> list[str]:
    """One phrase per setting both sides record and set differently: "epochs: A 2, B 5"."""
    return [f"{k.replace('_', ' ')}: A {a[k]}, B {b[k]}" for k in SETTINGS if k in a and k in b and a[k] != b[k]]


def compare(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Per variant and device: each metric's mean, std and n on both sides, the change (B - A, or
    B / A for a log-scale metric) with its 95% interval, the Holm-adjusted two-sided p over the
    whole table, and a verdict: 'changed', 'no change shown', 'spread unknown', 'only in A' or
    'only in B'."""
    sides = [_stats(a).add_suffix("_a"), _stats(b).add_suffix("_b")]
    frame = pd.concat(sides, axis=1, join="outer").reset_index()
    values = {name: side.groupby(KEYS, sort=False) for name, side in (("a", a), ("b", b))}
    tested = []  # (metric, row index, two-sided p)
    for metric in METRICS:
        scale = described(metric).scale
        found = {key: [math.nan] * len(frame) for key in ("delta", "ci_low", "ci_high", "p_adj")}
        verdicts = []
        for i, r in enumerate(frame.itertuples()):
            key = (r.axis, r.variant, r.device)
            sided = [_values(values[s], key, metric) for s in ("a", "b")]
            if not len(sided[0]) or not len(sided[1]):
                verdicts.append("only in B" if not len(sided[0]) else "only in A")
                continue
            try:
                c = stats.compare(sided[0], sided[1], scale=scale, deterministic=False, min_effect=MARGINS[metric])
            except ValueError:  # one seed a side, or every seed equal: no spread to weigh (the change still shown)
                means = [float(np.mean(x)) for x in sided]
                found["delta"][i] = means[1] / means[0] if scale == "log" and means[0] > 0 else means[1] - means[0]
                verdicts.append("spread unknown")
                continue
            found["delta"][i], found["ci_low"][i], found["ci_high"][i] = c.estimate, c.ci_low, c.ci_high
            tested.append((metric, i, min(1.0, 2 * min(c.p, c.p_opposite))))
            verdicts.append("")
        for key, column in found.items():
            frame[f"{metric}_{key}"] = column
        frame[f"{metric}_verdict"] = verdicts
    for (metric, i, _), adjusted in zip(tested, stats.holm([p for *_, p in tested]).tolist()):
        frame.loc[i, f"{metric}_p_adj"] = adjusted
        frame.loc[i, f"{metric}_verdict"] = "changed" if adjusted <= stats.ALPHA else "no change shown"
    return grid_order(frame)


def _values(grouped, key, metric) -> np.ndarray:
    try:
        return grouped.get_group(key)[metric].dropna().to_numpy(dtype=float)
    except KeyError:
        return np.array([])


def _stats(runs: pd.DataFrame) -> pd.DataFrame:
    grouped = runs.groupby(KEYS, sort=False)
    parts = [
        grouped[m].agg(["mean", "std", "count"]).rename(columns={"count": "n"}).add_prefix(f"{m}_") for m in METRICS
    ]
    return pd.concat(parts, axis=1)


def markdown(frame: pd.DataFrame, name_a: str, name_b: str, differences: list[str] = ()) -> str:
    """The comparison as a markdown table (printed by the CLI and written as compare.md);
    `differences` (setting_differences) are said before it."""
    lines = [
        f"# Comparison: A = {name_a}, B = {name_b}",
        "",
        *([f"> The two sides were run with different settings ({'; '.join(differences)}): a change below may come "
           "from those, not from the code.", ""] if differences else []),
        "Change = B - A of the means over seeds (B / A for epoch times: their geometric means), with its 95% interval "
        "in the CSV. Flagged **changed** where Welch's t, two-sided, rejects no change at 5% after Holm's correction "
        "over every comparison of this table; 'spread unknown' where a side has one seed.",
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
                change(metric, r[f"{metric}_delta"], described(metric).scale),
                f"**{verdict}**" if verdict == "changed" else verdict,
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _conclusion(frame)]
    return "\n".join(lines) + "\n"


def _conclusion(frame: pd.DataFrame) -> str:
    """How many variants changed beyond the spread, of those that could be judged, and why the others could not."""
    verdicts = frame["test_accuracy_verdict"]
    flagged = frame[verdicts == "changed"]
    both = int((~verdicts.str.startswith("only in")).sum())
    judged = int(verdicts.isin(["changed", "no change shown"]).sum())
    unknown = int((verdicts == "spread unknown").sum())
    if not judged:
        why = (f": {'each has' if unknown > 1 else 'it has'} one seed on a side, so the seed spread is unknown; run "
               "both with --ablation-seeds 2 or more" if unknown else "")
        return f"Test accuracy could be judged for none of the {both} variants run on both sides{why}."
    changes = ", ".join(f"{a}[{v}] ({d}) {change('test_accuracy', x)}" for a, v, d, x in
                        zip(flagged["axis"], flagged["variant"], flagged["device"], flagged["test_accuracy_delta"]))
    untold = f"; {unknown} could not be judged (one seed on a side: the spread is unknown)" if unknown else ""
    return (f"Test accuracy changed (Holm-adjusted p <= 0.05) for {len(flagged)} of the {judged} variants judged "
            f"({both} run on both sides{untold})" + (f": {changes}" if changes else "") + ".")


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
    text = markdown(frame, str(a), str(b), setting_differences(load_settings(a), load_settings(b)))
    folder = writable_folder(Path(out) if out is not None else default_out(a, b))
    written = [write_atomic(folder / "compare.md", text),
               write_atomic(folder / "compare.csv", frame.to_csv(index=False, float_format="%.6g"))]
    return text, written


def _count(n) -> str:
    return "0" if pd.isna(n) else str(int(n))
