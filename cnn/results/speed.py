"""The speed figures of each axis that asks for a "speed" section (the `speed` axis: the notebook's
recipe against the fast path), per device, measured against the axis' reference variant (its
record's "reference", e.g. naive; else its first variant).

For each variant: samples/s and its ratio to the reference; achieved GFLOP/s (3 x forward FLOPs
per training image) and its fraction of the matmul peak measured in the same run for the run's
precision (runs.csv's `precision`, from its config: mixed_bfloat16 against the bfloat16 peak);
time-to-accuracy, the training seconds until test accuracy first reaches the target. The target
is the reference's mean test accuracy after TARGET_EPOCH epochs, and the yardstick its mean
training seconds for those epochs: the fast path should get there in half of them. A profile can
fix the target instead (full: 0.90 on Fashion-MNIST); the yardstick is then the reference's own
mean time to reach it, and `target_epoch` is 0. A time to target is the mean over the seeds that
reached it, with how many did (`reached` of `n`): a seed that never got there is counted, not
averaged in, and the table says "k/n" beside the time.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

TARGET_EPOCH = 3  # the reference's accuracy after this many epochs is the target
SECTION = "speed"  # an axis with this report section gets speed figures


def speed_axes(records: list[dict]) -> list[tuple[str, str]]:
    """(axis, reference variant) of each axis record (axes.json) whose sections hold "speed"."""
    out = []
    for record in records:
        if SECTION in (record.get("sections") or []):
            variants = [v["id"] for v in record.get("variants", [])]
            reference = record.get("reference") or (variants[0] if variants else None)
            if reference:
                out.append((record["name"], reference))
    return out


def peak_dtype(precision) -> str:
    """The matmul peak a run's GFLOP/s are a fraction of: its config's precision without "mixed_"
    (mixed_bfloat16 computes in bfloat16); float32 where runs.csv has no precision (older rows)."""
    return str(precision).removeprefix("mixed_") if isinstance(precision, str) and precision else "float32"


def speed_frame(runs: pd.DataFrame, histories: pd.DataFrame, peaks: dict[str, float], axes: list[dict],
                target: float | None = None) -> pd.DataFrame:
    """One row per variant and device of each speed axis among the records `axes` (empty where its
    reference has not run on that device). `target`: a fixed time-to-accuracy target (the
    profile's); None: the reference's TARGET_EPOCH accuracy."""
    if runs.empty or histories.empty:
        return pd.DataFrame()
    out = []
    for axis, reference in speed_axes(axes):
        out += _axis_rows(
            axis, reference, runs[runs["axis"] == axis], histories[histories["axis"] == axis], peaks, target
        )
    return pd.DataFrame(out)


def _axis_rows(axis: str, reference: str, speed: pd.DataFrame, curves: pd.DataFrame, peaks: dict[str, float],
               target: float | None) -> list[dict]:
    out = []
    for device, on_device in speed.groupby("device", sort=False):
        ref_curves = curves[(curves["variant"] == reference) & (curves["device"] == device)]
        ref_runs = on_device[on_device["variant"] == reference]
        if ref_curves.empty or ref_runs.empty:
            continue
        if target is None:
            target_epoch = min(TARGET_EPOCH, int(ref_curves["epoch"].max()))
            goal = float(ref_curves[ref_curves["epoch"] == target_epoch]["val_accuracy"].mean())
            reference_s = float(ref_curves[ref_curves["epoch"] <= target_epoch].groupby("seed")["epoch_s"].sum().mean())
            reference_reached = len(ref_curves[ref_curves["epoch"] == target_epoch]["seed"].unique())
        else:  # the reference's own time to the fixed target, over the seeds that reached it
            target_epoch, goal = 0, float(target)
            ref_times = [time_to_target(run, ref_curves[ref_curves["seed"] == run["seed"]], goal)
                         for _, run in ref_runs.iterrows()]
            reference_s, reference_reached = mean_reached(ref_times)
        ref_samples = float(ref_runs["samples_per_s"].mean())
        for variant, group in on_device.groupby("variant", sort=False):
            samples = float(group["samples_per_s"].mean())
            gflops = 3 * float(group["flops_per_sample"].iloc[0]) * samples / 1e9
            precision = peak_dtype(group["precision"].iloc[0] if "precision" in group else None)
            variant_curves = curves[(curves["variant"] == variant) & (curves["device"] == device)]
            times = [time_to_target(run, variant_curves[variant_curves["seed"] == run["seed"]], goal)
                     for _, run in group.iterrows()]
            time_s, reached = mean_reached(times)
            out.append({
                "axis": axis, "reference": reference,
                "device": device, "variant": variant, "n": len(group), "samples_per_s": samples,
                "speedup": samples / ref_samples, "gflops": gflops, "precision": precision,
                "peak_gflops": peaks.get(precision, float("nan")),
                "fraction_of_peak": gflops / peaks[precision] if precision in peaks else float("nan"),
                # The reference's columns keep the names speed.csv has had since the reference was always naive.
                "target_accuracy": goal, "target_epoch": target_epoch, "naive_target_epoch_s": reference_s,
                "naive_reached": reference_reached, "naive_n": len(ref_runs),
                "reached": reached, "time_to_target_s": time_s, "time_vs_naive": time_s / reference_s,
                "test_accuracy": float(group["test_accuracy"].mean()),
            })
    return out


def mean_reached(times: list[float]) -> tuple[float, int]:
    """(mean seconds over the seeds that reached the target, how many did); NaN when none did."""
    reached = [t for t in times if not np.isnan(t)]
    return (float(np.mean(reached)) if reached else float("nan")), len(reached)


def clock_points(value) -> list[list[float]]:
    """A runs.csv `accuracy_clock` cell as [[training s, images, test accuracy], ...] ([] when empty)."""
    return json.loads(value) if isinstance(value, str) and value else []


def time_to_target(run: pd.Series, curve: pd.DataFrame, target: float) -> float:
    """Training seconds until the run's test accuracy first reached `target` (NaN if never): from
    its accuracy clock when it has one, else at epoch ends from its history."""
    points = clock_points(run.get("accuracy_clock"))
    if not points:
        curve = curve.sort_values("epoch")
        points = list(zip(curve["epoch_s"].cumsum(), curve["epoch"], curve["val_accuracy"]))
    return next((float(seconds) for seconds, _, accuracy in points if accuracy >= target - 1e-9), float("nan"))


def speed_table(speed: pd.DataFrame, peaks: dict[str, float]) -> str:
    """The speed figures as the text a session prints, with a legend so the columns read without
    the README."""
    first = speed.iloc[0]
    reference = _reference(first)
    peak_text = ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in peaks.items()) or "not measured in this run"
    lines = [
        f"{first.get('axis', 'speed')} (matmul peak: {peak_text})",
        f"  target: {target_text(first)}",
        "  s to target: training seconds until test accuracy first reached the target "
        "(checked several times an epoch),",
        "    the mean over the seeds that reached it; (k/n): only k of the n seeds did",
        f"  share of {reference}: s to target / {yardstick_text(first)}; final acc can be below the "
        f"target: accuracy moves from epoch to epoch",
        f"  {'variant':<16} {'dev':<4} {'samples/s':>9} {'x ' + reference:>7} {'GFLOP/s':>8} {'of peak':>20} "
        f"{'s to target':>18} {'share of ' + reference:>14} {'final acc':>9}",
    ]
    for _, r in speed.iterrows():
        lines.append(
            f"  {r['variant']:<16} {r['device']:<4} {r['samples_per_s']:>9,.0f} {r['speedup']:>7.2f} "
            f"{r['gflops']:>8.1f} "
            f"{peak_share(r):>20} {to_target_text(r):>18} {_ratio(r['time_vs_naive']):>14} "
            f"{r['test_accuracy']:>9.4f}"
        )
    return "\n".join(lines)


def target_text(row: pd.Series) -> str:
    """What the target is and what it took the reference recipe, in words: a speed row's first half."""
    target, epochs, seconds = row["target_accuracy"], int(row["target_epoch"]), row["naive_target_epoch_s"]
    name = _reference(row)
    if epochs == 0:
        if pd.isna(seconds):
            return f"{target:.4f}, the profile's; the {name} recipe did not reach it in any seed, so no ratio"
        return (f"{target:.4f}, the profile's; the {name} recipe reached it after {seconds:.2f} s of training"
                f"{_of_seeds(row.get('naive_reached'), row.get('naive_n'))}")
    return (f"{target:.4f}, the {name} recipe's mean test accuracy after {epochs} epochs; those {epochs} epochs took "
            f"it {seconds:.2f} s of training")


def yardstick_text(row: pd.Series) -> str:
    """The seconds a variant's time to target is divided by."""
    epochs, name = int(row["target_epoch"]), _reference(row)
    return (
        f"{name}'s own s to target"
        if epochs == 0
        else f"{name}'s {epochs}-epoch seconds (below 1 for {name}: it gets there within the epoch)"
    )


def peak_share(row: pd.Series) -> str:
    """'45% of bfloat16', or 'n/a (peak not measured)' where this run did not time the matmul peak
    (test_matmul_peak deselected)."""
    if pd.isna(row["fraction_of_peak"]):
        return "n/a (peak not measured)"
    return f"{row['fraction_of_peak']:.0%} of {row['precision']}"


def to_target_text(row: pd.Series) -> str:
    """'3.10', '3.10 (2/3)' where only 2 of 3 seeds reached the target, 'not reached' where none did."""
    if pd.isna(row["time_to_target_s"]):
        return "not reached"
    reached, n = row.get("reached"), row.get("n")
    partly = pd.notna(reached) and pd.notna(n) and int(reached) < int(n)
    return f"{row['time_to_target_s']:.2f}" + (f" ({int(reached)}/{int(n)})" if partly else "")


def _of_seeds(reached, n) -> str:
    """' (in 2 of 3 seeds)' where not every seed reached it; '' otherwise (or in older speed.csv files)."""
    if reached is None or n is None or pd.isna(reached) or pd.isna(n) or int(reached) >= int(n):
        return ""
    return f" (in {int(reached)} of {int(n)} seeds)"


def _ratio(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"


def _reference(row: pd.Series) -> str:
    """The variant a speed row is measured against (speed.csv files before the column: naive)."""
    value = row.get("reference")
    return str(value) if isinstance(value, str) and value else "naive"
