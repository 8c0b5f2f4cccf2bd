"""The report's figures, one per PNG file.

Drawn with matplotlib's object API on its Agg canvas (no pyplot): no display, no global state,
so it runs headless, in CI and inside pytest. Each function takes the rows it draws (pandas
frames from runs.csv, summary.csv, histories.csv) and returns the path it wrote.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator
from scipy import stats as sps

from cnn.files import write_atomic
from cnn.results.guard import LEARNED_FACTOR

DPI = 110
TRAIN, TEST, GAP_LOSS = "#4c72b0", "#dd8452", "#55a868"
DEVICE_COLOURS = {"cpu": "#4c72b0", "gpu": "#c44e52"}
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")


def accuracy_bars(summary: pd.DataFrame, axis: str, path: Path, chance: float | None,
                  runs: pd.DataFrame | None = None) -> Path:
    """Train and test accuracy per variant, side by side: the mean with its 95% t-interval, and
    every seed of `runs` (runs.csv rows of the axis) as a point. A variant whose seeds split between
    learning and chance is labelled "k of n learned": its mean describes none of them.

    Bars from 0 would flatten the differences that matter (0.964 against 0.971), so the y axis is
    zoomed to where the variants that learned lie, and says so. Variants that did not learn (below
    3x chance) get a lower panel from 0 under a broken axis, so they stay in sight."""
    x = np.arange(len(summary))
    learned = summary["test_accuracy_mean"] >= (LEARNED_FACTOR * chance if chance is not None else 0)
    stuck = ~learned & summary["test_accuracy_mean"].notna()
    upright = len(summary) > 5  # side by side, two horizontal labels per variant would run into each other
    zoom = _zoom(summary[learned], upright)
    split = zoom is not None and stuck.any()
    fig = Figure(figsize=(_width(len(summary)), 4.8 if split else 4.2), layout="constrained")
    if split:
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1.3]})
    else:
        top = bottom = fig.subplots()
    floor = zoom[0] if split else -1.0  # a bar's value is labelled in the panel where its top shows
    split_labels = [_learned_label(runs, v, d) for v, d in zip(summary["variant"], summary["device"])]
    two_state = np.array([bool(label) for label in split_labels])
    for ax, shows in ((top, lambda v: v >= floor), (bottom, lambda v: v < floor))[:2 if split else 1]:
        for offset, metric, name, colour in (
            (-0.2, "train_accuracy", "train (inference mode)", TRAIN),
            (0.2, "test_accuracy", "test", TEST),
        ):
            means = summary[f"{metric}_mean"]
            errors = _interval(summary, metric)
            if errors is not None:  # a two-state variant's mean and interval describe none of its seeds: points only
                errors = np.where(two_state, 0.0, errors)
            bars = ax.bar(x + offset, means, 0.4, yerr=errors, capsize=3, label=name, color=colour)
            ax.bar_label(bars, labels=[_short(v) if shows(v) else "" for v in means], padding=2,
                         fontsize=7, rotation=90 if upright else 0)
            _seeds(ax, runs, summary, metric, x, offset)
    for i, label in enumerate(split_labels):
        if label:
            top.annotate(label, (x[i], 1.0), xycoords=("data", "axes fraction"), xytext=(0, -10),
                         textcoords="offset points", ha="center", fontsize=7, color="#8b0000")
    if chance is not None and (zoom is None or split):  # a zoomed axis alone does not reach chance
        bottom.axhline(chance, color="grey", linestyle=":", linewidth=1, label=f"chance ({chance:.2f})")
    if zoom is None:
        top.set_ylim(0, 1.15)
        top.set_ylabel("accuracy (fraction correct)")
    else:
        top.set_ylim(*zoom)
        top.set_ylabel(f"accuracy (y axis zoomed:\nfrom {zoom[0]:.2f}, not 0)")
    top.set_yticks([t for t in top.get_yticks() if top.get_ylim()[0] <= t <= 1.0])  # no accuracy above 1 on the scale
    if split:
        below = summary[["train_accuracy_mean", "test_accuracy_mean"]].to_numpy().ravel()
        high = max(float(np.nanmax(below, initial=0, where=below < floor)), chance or 0)
        bottom.set_ylim(0, min(high * 1.25 + 0.05, floor))
        bottom.set_ylabel("did not\nlearn", fontsize=8)
        _break_marks(top, bottom)
    _variant_ticks(bottom, x, summary)
    handles = dict(zip(*reversed(top.get_legend_handles_labels())))
    handles.update(zip(*reversed(bottom.get_legend_handles_labels())))  # the chance line, drawn in the lower panel
    top.legend(
        handles.values(),
        handles.keys(),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    top.set_title(f"{axis}: train and test accuracy per variant\n{_seed_note(summary)}", fontsize=10, pad=22)
    return _save(fig, path)


def _zoom(learned: pd.DataFrame, upright: bool) -> tuple[float, float] | None:
    """The y range that holds the learned variants' train and test means with their error bars, or
    None (keep 0 to 1) where it would start below 0.5: a zoom of less than 2x gains little and cuts
    off the error bar of a variant whose seeds disagree (sigmoid: one seed still at chance)."""
    values = []
    for metric in ("train_accuracy", "test_accuracy"):
        std = learned[f"{metric}_std"].fillna(0)
        values += [learned[f"{metric}_mean"] - std, (learned[f"{metric}_mean"] + std).clip(upper=1.0)]
    values = pd.concat(values).dropna()
    if values.empty:
        return None
    low, high = float(values.min()), float(values.max())
    spread = max(high - low, 0.01)
    low = math.floor((low - 0.15 * spread) * 100) / 100
    if low < 0.5:
        return None
    return low, high + (0.35 if upright else 0.2) * (high - low)  # room above for the value labels


def _break_marks(top, bottom) -> None:
    """The slanted marks of a broken axis between two stacked panels."""
    top.spines.bottom.set_visible(False)
    bottom.spines.top.set_visible(False)
    top.tick_params(bottom=False)
    marks = dict(
        marker=[(-1, -0.5), (1, 0.5)], markersize=10, linestyle="none", color="black", mec="black", mew=1, clip_on=False
    )
    top.plot([0, 1], [0, 0], transform=top.transAxes, **marks)
    bottom.plot([0, 1], [1, 1], transform=bottom.transAxes, **marks)


def gap_bars(summary: pd.DataFrame, axis: str, path: Path, runs: pd.DataFrame | None = None) -> Path:
    """Three panels: train and test accuracy, the accuracy gap (train - test) and the loss gap (test -
    train) per variant, each mean with its 95% t-interval and every seed as a point. The accuracies
    beside the gaps show where a gap narrowed because the model fits the training set less
    (underfitting), not because it generalises better."""
    fig = Figure(figsize=(_width(len(summary)) * 2.3, 4.2), layout="constrained")
    panels = fig.subplots(1, 3)
    x = np.arange(len(summary))
    for offset, metric, name, colour in ((-0.2, "train_accuracy", "train", TRAIN),
                                         (0.2, "test_accuracy", "test", TEST)):
        panels[0].bar(x + offset, summary[f"{metric}_mean"], 0.4, yerr=_interval(summary, metric), capsize=3,
                      color=colour, label=name)
        _seeds(panels[0], runs, summary, metric, x, offset)
    zoom = _zoom(summary, upright=False)
    if zoom is not None:
        panels[0].set_ylim(zoom[0], min(1.0, zoom[1]) + 0.005)
    panels[0].set_ylabel("accuracy" + (f" (from {zoom[0]:.2f}, not 0)" if zoom else ""))
    panels[0].set_title("train and test accuracy", fontsize=9)
    panels[0].legend(fontsize=7, loc="lower right")
    _variant_ticks(panels[0], x, summary)
    for ax, metric, colour, unit in ((panels[1], "accuracy_gap", TRAIN, "train - test accuracy (fraction)"),
                                     (panels[2], "loss_gap", GAP_LOSS, "test - train loss (cross-entropy)")):
        bars = ax.bar(x, summary[f"{metric}_mean"], 0.6, yerr=_interval(summary, metric), capsize=3, color=colour)
        ax.bar_label(
            bars, labels=[f"{round(v, 3) + 0.0:+.3f}" for v in summary[f"{metric}_mean"]], padding=2, fontsize=7
        )
        _seeds(ax, runs, summary, metric, x)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.margins(y=0.15)
        ax.set_ylabel(unit)
        ax.set_title(metric.replace("_", " "), fontsize=9)
        _variant_ticks(ax, x, summary)
    fig.suptitle(
        f"{axis}: overfitting gap per variant (above 0 = fits train better than test), beside the train and test "
        f"accuracy it is the difference of\n{_seed_note(summary)}",
        fontsize=10,
    )
    return _save(fig, path)


def learning_curves(histories: pd.DataFrame, labels: list[tuple[str, str]], axis: str, path: Path,
                    chance: float | None, validation: str = "test") -> Path:
    """Train and validation accuracy per epoch, one panel per (variant, device) in `labels`; the line
    is the mean over seeds, the band spans the lowest to the highest seed. The train curve is the
    inference-mode accuracy on a fixed training subset (train_fit_accuracy) where the runs measured
    it, as the bars beside it are, else Keras' running average (said in the legend); `validation`
    names what val_accuracy was measured on (the validation split, or the test set as the notebook)."""
    fitted = "train_fit_accuracy" in histories and histories["train_fit_accuracy"].notna().any()
    train = ("train_fit_accuracy", "train (inference mode)") if fitted else (
        "accuracy", "train (Keras' running average)")
    rows = math.ceil(len(labels) / 4)
    columns = math.ceil(len(labels) / rows)  # balanced rows: 5 panels as 3 + 2, not 4 + 1
    fig = Figure(figsize=(3.0 * columns + 0.5, 2.6 * rows + 0.9), layout="constrained")
    panels = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    several_devices = len({device for _, device in labels}) > 1
    # The chance line only where some curve comes near it: otherwise it would squash the curves.
    near_chance = chance is not None and histories["val_accuracy"].min() < LEARNED_FACTOR * chance
    for ax, (variant, device) in zip(panels, labels):
        part = histories[(histories["variant"] == variant) & (histories["device"] == device)]
        by_epoch = part.groupby("epoch")
        for metric, name, colour in ((*train, TRAIN), ("val_accuracy", validation, TEST)):
            stats = by_epoch[metric].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], marker="o", markersize=3, color=colour, label=name)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=0.2, linewidth=0)
        if near_chance:
            ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label=f"chance ({chance:.2f})")
        ax.set_title(f"{variant} ({device})" if several_devices else variant, fontsize=9)
        ax.set_xlabel("epoch")
        ax.tick_params(labelbottom=True)  # shared x hides them above an empty panel otherwise
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in panels[len(labels):]:
        ax.set_visible(False)
    for ax in panels[::columns]:
        ax.set_ylabel("accuracy (fraction correct)")
    panels[0].set_xlim(0.5, histories["epoch"].max() + 0.5)
    fig.legend(*panels[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    seeds = histories.groupby(["variant", "device"])["seed"].nunique().max()
    band = f"mean over {seeds} seeds, band from lowest to highest seed" if seeds > 1 else "one seed"
    fig.suptitle(f"{axis}: accuracy per epoch ({band})", fontsize=10)
    return _save(fig, path)


def data_size(points: pd.DataFrame, path: Path, chance: float | None) -> Path:
    """Test (and train) accuracy against the number of training images; `points` has n_train and
    test/train accuracy mean and std per variant. Error bars: std over seeds. The chance line shows
    only where some variant comes near it (otherwise it would squash the curve)."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    budget = points["budget"] if "budget" in points else pd.Series("epochs", index=points.index)
    stepped = points[budget == "steps"]
    points = points[budget != "steps"]
    for metric, name, colour, style in (
        ("test_accuracy", "test", TEST, "-"),
        ("train_accuracy", "train (inference mode)", TRAIN, "--"),
    ):
        ax.errorbar(points["n_train"], points[f"{metric}_mean"], yerr=_interval(points, metric), marker="o", capsize=3,
                    color=colour, linestyle=style, label=f"{name}, same epochs" if len(stepped) else name)
        if len(stepped):  # the same optimizer steps as the whole set: joined to its point
            line = pd.concat([stepped, points[points["n_train"] == points["n_train"].max()]])
            ax.errorbar(line["n_train"], line[f"{metric}_mean"], yerr=_interval(line, metric), marker="s",
                        markerfacecolor="white", capsize=3, color=colour, linestyle=":",
                        label=f"{name}, same steps as the whole set")
    for _, row in pd.concat([points, stepped]).iterrows():
        ax.annotate(
            f"{row['variant']}\n{_short(row['test_accuracy_mean'])}",
            (row["n_train"], row["test_accuracy_mean"]),
            textcoords="offset points",
            xytext=(7, -3),
            ha="left",
            va="top",
            fontsize=7,
        )
    if chance is not None and points["test_accuracy_mean"].min() < LEARNED_FACTOR * chance:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label=f"chance ({chance:.2f})")
    ax.set_xscale("log")
    ax.set_xticks(points["n_train"], [f"{int(n):,}" for n in points["n_train"]])
    ax.minorticks_off()
    ax.margins(x=0.1, y=0.15)
    ax.set_xlabel("training images (log scale)")
    ax.set_ylabel("accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Training data size: accuracy against training images\n{_seed_note(points).replace(' (points)', '')}",
                 fontsize=10)
    return _save(fig, path)


def cost_bars(summary: pd.DataFrame, axis: str, path: Path, runs: pd.DataFrame | None = None) -> Path:
    """Steady epoch time and samples/s per variant, a bar per device; where a variant ran on both,
    the GPU bar is labelled with its speed-up over the CPU."""
    devices = list(dict.fromkeys(summary["device"]))
    variants = list(dict.fromkeys(summary["variant"]))
    fig = Figure(figsize=(_width(len(variants)) * 1.6, 4.2), layout="constrained")
    panels = fig.subplots(1, 2)
    x = np.arange(len(variants))
    width = 0.8 / len(devices)
    for ax, metric, unit in ((panels[0], "steady_epoch_s", "seconds per epoch (steady state)"),
                             (panels[1], "samples_per_s", "training images per second")):
        for i, device in enumerate(devices):
            rows = summary[summary["device"] == device].set_index("variant").reindex(variants)
            bars = ax.bar(
                x + (i - (len(devices) - 1) / 2) * width,
                rows[f"{metric}_mean"],
                width,
                yerr=_interval(rows, metric),
                capsize=3,
                color=DEVICE_COLOURS.get(device, "grey"),
                label=device.upper(),
            )
            ax.bar_label(
                bars, labels=[_bar_text(metric, device, v, summary) for v in rows.index], padding=2, fontsize=7
            )
            if runs is not None:
                _seeds(ax, runs[runs["device"] == device], rows.reset_index(), metric, x,
                       (i - (len(devices) - 1) / 2) * width)
        ax.margins(y=0.15)
        ax.set_ylabel(unit)
        ax.set_title(metric.replace("_per_", "/").replace("_", " "), fontsize=9)
        ax.set_xticks(x, variants, **_tick_style(variants))
        if len(devices) > 1:
            ax.legend(fontsize=8)
    where = (
        "GPU speed-up over CPU on the GPU bars"
        if set(devices) >= {"cpu", "gpu"}
        else f"{' and '.join(d.upper() for d in devices)} only"
    )
    fig.suptitle(f"{axis}: training cost per variant ({where})\n{_seed_note(summary)}", fontsize=10)
    return _save(fig, path)


def accuracy_vs_time(summary: pd.DataFrame, axes: list[str], path: Path, learned_at: float | None) -> Path:
    """Every variant as a point: test accuracy against steady epoch time. A panel per axis: its
    variants in the axis' colour, a marker each, named with their numbers in the legend under the
    panel (so no labels pile up), the other axes' variants in grey behind. The y axis is the log of
    the error (1 - accuracy), labelled in accuracy: it spreads out 0.95 against 0.97 and still shows
    the variants at chance on the same panel."""
    columns = min(4, len(axes))
    rows = math.ceil(len(axes) / columns)
    fig = Figure(figsize=(3.1 * columns, 3.4 * rows + 0.8), layout="constrained")
    panels = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    colours = _axis_colours(axes)
    known = summary.dropna(subset=["test_accuracy_mean", "steady_epoch_s_mean"])
    several_devices = summary["device"].nunique() > 1
    for ax, axis in zip(panels, axes):
        ax.scatter(known["steady_epoch_s_mean"], known["test_accuracy_mean"], s=12, color="lightgrey", zorder=1)
        entries = []
        for i, row in enumerate(summary[summary["axis"] == axis].itertuples()):
            name = f"{row.variant} ({row.device})" if several_devices else row.variant
            if pd.isna(row.test_accuracy_mean) or pd.isna(row.steady_epoch_s_mean):
                entries.append(ax.scatter([], [], color=colours[axis], marker=VARIANT_MARKERS[i % len(VARIANT_MARKERS)],
                                          label=f"{name}: no result"))
                continue
            stuck = learned_at is not None and row.test_accuracy_mean < learned_at
            entries.append(
                ax.scatter(
                    row.steady_epoch_s_mean,
                    row.test_accuracy_mean,
                    s=36,
                    color=colours[axis],
                    zorder=2,
                    marker=VARIANT_MARKERS[i % len(VARIANT_MARKERS)],
                    edgecolors="black",
                    linewidths=0.4,
                    label=f"{name}: {row.test_accuracy_mean:.3f}, {row.steady_epoch_s_mean:.2f} s"
                    + (" (no learning)" if stuck else ""),
                )
            )
        longest = max(len(e.get_label()) for e in entries)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, handletextpad=0.2,
                  columnspacing=0.8, ncols=2 if longest <= 22 and len(entries) > 3 else 1)
        ax.set_title(axis, fontsize=9, color=colours[axis])
        ax.tick_params(labelbottom=True, labelleft=True, labelsize=7)  # shared axes would hide them on inner panels
        ax.grid(alpha=0.3)
        _seconds_scale(ax)
    _error_scale(panels[0], known["test_accuracy_mean"])
    for ax in panels[len(axes):]:
        ax.set_visible(False)
    fig.supxlabel("steady epoch time (seconds, log scale)", fontsize=9)
    fig.supylabel("test accuracy (log scale of the error, 1 - accuracy)", fontsize=9)
    devices = " and ".join(d.upper() for d in dict.fromkeys(summary["device"]))
    seeds = "/".join(str(n) for n in sorted({int(n) for n in summary["n"].dropna()}))
    fig.suptitle(
        f"Test accuracy against time per epoch ({devices}; grey: the other axes' variants)\n"
        f"mean over {seeds} seed{'s' if seeds != '1' else ''} per variant; y axis: 0.9 to 0.99 is as tall as 0 to 0.9",
        fontsize=10,
    )
    return _save(fig, path)


def accuracy_vs_flops(curves: pd.DataFrame, axes: list[str], path: Path) -> Path:
    """Test accuracy against cumulative training FLOPs, a curve per variant (mean over seeds at each
    epoch end), a panel per axis, after MNIST Battleground's view: variants of different cost
    compared at equal compute. `curves`: axis, variant, device, epoch, flops (cumulative), val_accuracy."""
    columns = min(4, len(axes))
    rows = math.ceil(len(axes) / columns)
    fig = Figure(figsize=(3.1 * columns, 3.4 * rows + 0.8), layout="constrained")
    panels = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    colours = colormaps["tab10"]
    for ax, axis in zip(panels, axes):
        mine = curves[curves["axis"] == axis]
        for i, ((variant, device), curve) in enumerate(mine.groupby(["variant", "device"], sort=False)):
            mean = curve.groupby("epoch").agg(flops=("flops", "mean"), accuracy=("val_accuracy", "mean"))
            ax.plot(
                mean["flops"],
                mean["accuracy"],
                marker=VARIANT_MARKERS[i % len(VARIANT_MARKERS)],
                markersize=3,
                linewidth=1.2,
                color=colours(i % 10),
                label=variant if mine["device"].nunique() == 1 else f"{variant} ({device})",
            )
        ax.set_xscale("log")
        ax.set_title(axis, fontsize=9)
        ax.tick_params(labelbottom=True, labelleft=True, labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="lower right", frameon=False, handlelength=1.2)
    _error_scale(panels[0], curves["val_accuracy"])
    for ax in panels[len(axes):]:
        ax.set_visible(False)
    fig.supxlabel("cumulative training FLOPs (3 x forward FLOPs per image x images trained, log scale)", fontsize=9)
    fig.supylabel("test accuracy (log scale of the error, 1 - accuracy)", fontsize=9)
    fig.suptitle("Test accuracy against training compute: a curve per variant, a point per epoch (mean over seeds)",
                 fontsize=10)
    return _save(fig, path)


def gradient_norms(histories: pd.DataFrame, axis: str, layers: list[str], path: Path) -> Path:
    """Per layer (a panel each, input to output), the gradient norm of its kernel on the fixed probe
    batch at each epoch end, a line per variant (mean over seeds, band lowest to highest seed), log
    scale: a layer whose gradients vanish sits decades below the others."""
    columns = min(len(layers), 5)
    rows = math.ceil(len(layers) / columns)
    fig = Figure(figsize=(2.7 * columns + 0.6, 2.6 * rows + 1.0), layout="constrained")
    panels = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    colours = colormaps["tab10"]
    groups = list(histories.groupby(["variant", "device"], sort=False))
    several_devices = histories["device"].nunique() > 1
    for ax, layer in zip(panels, layers):
        column = f"grad_norm/{layer}"
        for i, ((variant, device), rows_) in enumerate(groups):
            values = rows_[["epoch", column]].dropna()
            values = values[values[column] > 0]
            if values.empty:
                continue
            stats = values.groupby("epoch")[column].agg(["mean", "min", "max"])
            label = f"{variant} ({device})" if several_devices else variant
            ax.plot(
                stats.index,
                stats["mean"],
                marker="o",
                markersize=2.5,
                linewidth=1.2,
                color=colours(i % 10),
                label=label,
            )
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colours(i % 10), alpha=0.15, linewidth=0)
        ax.set_yscale("log")
        ax.set_title(layer, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)  # a panel's own: a figure-wide label collides with the legend below
        ax.tick_params(labelbottom=True, labelleft=True, labelsize=7)
        ax.grid(alpha=0.3)
    for ax in panels[len(layers):]:
        ax.set_visible(False)
    handles, labels = panels[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncols=min(4, max(1, len(labels))), fontsize=7, frameon=False
    )
    fig.supylabel("gradient norm of the kernel (log scale)", fontsize=9)
    fig.suptitle(f"{axis}: gradient norm per layer at each epoch end, on a fixed probe batch\n"
                 "(mean over seeds, band lowest to highest; a missing line: a zero gradient, e.g. zero initialisation)",
                 fontsize=10)
    return _save(fig, path)


def _error_scale(ax, accuracies: pd.Series) -> None:
    """A y axis in accuracy whose spacing is the log of the error: what separates 0.96 from 0.97
    and what separates chance from learning both get room."""
    forward = lambda a: -np.log10(np.clip(1 - np.asarray(a, dtype=float), 1e-4, None))  # noqa: E731
    inverse = lambda y: 1 - 10 ** -np.asarray(y, dtype=float)  # noqa: E731
    ax.set_yscale("function", functions=(forward, inverse))
    low, high = (float(forward(v)) for v in (accuracies.min(), accuracies.max())) if len(accuracies) else (0.0, 2.0)
    margin = 0.08 * max(high - low, 0.1)
    ax.set_ylim(float(inverse(low - margin)), float(inverse(high + margin)))
    bottom, top = ax.get_ylim()
    ticks = [t for t in (0.1, 0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995) if bottom <= t <= top]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_locator(NullLocator())


def time_to_accuracy(runs: pd.DataFrame, target: float, target_epoch: int, reference_s: float, path: Path,
                     reference: str) -> Path:
    """Test accuracy against training seconds per speed variant: at each check of its accuracy clock
    (the same number of images for every seed), the mean over seeds of the time and the accuracy,
    with a band from the lowest to the highest seed's accuracy. With the target, the reference's
    time for the epochs that set it, and half that time (where a recipe twice as fast gets there)."""
    from cnn.results.speed import clock_points

    fig = Figure(figsize=(8.5, 4.6), layout="constrained")
    ax = fig.subplots()
    variants = list(dict.fromkeys(runs["variant"]))
    colours = _axis_colours(variants)
    lowest, highest, seeds = target, target, 0
    for variant in variants:
        points = pd.DataFrame(
            [point for clock in runs[runs["variant"] == variant]["accuracy_clock"] for point in clock_points(clock)],
            columns=["seconds", "images", "accuracy"],
        )
        if points.empty:
            continue
        checks = points.groupby("images").agg(seconds=("seconds", "mean"), mean=("accuracy", "mean"),
                                              low=("accuracy", "min"), high=("accuracy", "max"), n=("accuracy", "size"))
        seeds = max(seeds, int(checks["n"].max()))
        ax.plot(
            checks["seconds"],
            checks["mean"],
            color=colours[variant],
            linewidth=1.5,
            marker=".",
            markersize=3,
            label=variant,
        )
        if checks["n"].max() > 1:
            ax.fill_between(
                checks["seconds"], checks["low"], checks["high"], color=colours[variant], alpha=0.15, linewidth=0
            )
        lowest = min(lowest, float(np.quantile(checks["mean"], 0.2)))
        highest = max(highest, float(checks["high"].max()))
    fixed = target_epoch == 0  # the profile's target: the yardstick is the reference's own time to it
    ax.axhline(
        target,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"target {target:.4f}"
        + (" (the profile's)" if fixed else f": {reference}'s mean test\naccuracy after {target_epoch} epochs"),
    )
    if np.isfinite(reference_s):
        ax.axvline(
            reference_s,
            color="grey",
            linestyle=":",
            linewidth=1.2,
            label=f"{reference_s:.1f} s: "
            + (
                f"{reference}'s mean time\nto the target"
                if fixed
                else f"{reference}'s training time\nfor those {target_epoch} epochs"
            ),
        )
        ax.axvline(reference_s / 2, color="grey", linestyle="-.", linewidth=1.2,
                   label=f"{reference_s / 2:.1f} s: half of it, where a\nrecipe 2x as fast reaches the target")
    ax.set_ylim(max(0.0, lowest - 0.02), min(1.0, highest + 0.005))
    ax.set_xlim(left=0)
    ax.set_xlabel("training seconds (validation and the accuracy checks left out)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    band = f"the mean over {seeds} seeds; band: lowest to highest seed" if seeds > 1 else "one seed"
    ax.set_title(f"Time to accuracy: test accuracy at every quarter-epoch check, {band}\n"
                 "(lower values cut off: the first checks of the large-batch runs)", fontsize=10)
    return _save(fig, path)


def digit_grid(images: np.ndarray, titles: list[str], title: str, path: Path, columns: int = 10) -> Path:
    """Images (N, H, W, C) in [0, 1] in a grid, at most `columns` wide, each with its caption.

    The grid is one mosaic image on one axes, the captions text over it: a hundred small axes took
    matplotlib ~10 s to lay out and draw, most of the report's time."""
    columns = max(1, min(columns, len(images)))
    rows = max(1, math.ceil(len(images) / columns))
    height, width, channels = images.shape[1:]
    lines = max((caption.count("\n") + 1 for caption in titles), default=1)
    gap = max(2, width // 5)  # between images, in the images' pixels
    cell_w = width + gap
    cell_in = 0.95  # inches a column, as the grid of small axes had
    above = math.ceil(lines * 7 * 1.3 / 72 * cell_w / cell_in) + 1  # room for the caption: its lines of 7 pt text
    cell_h = height + above
    mosaic = np.zeros((rows * cell_h, columns * cell_w, channels), dtype=np.float32)  # 0: white under gray_r
    if channels != 1:
        mosaic[:] = 1.0  # white for colour images
    grid_w = columns * cell_in  # the height follows the mosaic's shape
    grid_h = grid_w * mosaic.shape[0] / mosaic.shape[1]
    fig = Figure(figsize=(grid_w, grid_h + 0.45))
    ax = fig.add_axes((0, 0, 1, grid_h / (grid_h + 0.45)))
    for i, (image, caption) in enumerate(zip(images, titles)):
        top, left = (i // columns) * cell_h + above, (i % columns) * cell_w + gap // 2
        mosaic[top:top + height, left:left + width] = image
        ax.text(left + width / 2, top - 1, caption, ha="center", va="bottom", fontsize=7, linespacing=1.0)
    ax.imshow(mosaic[..., 0] if channels == 1 else mosaic, cmap="gray_r" if channels == 1 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=10, y=1 - 0.1 / (grid_h + 0.45), va="top")
    return _save(fig, path)


# --- helpers ---------------------------------------------------------------------------------


def _save(fig: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return write_atomic(path, buffer.getvalue())


def _interval(frame: pd.DataFrame, metric: str) -> np.ndarray | None:
    """The half-width of each row's 95% t-interval of the mean (t(0.975, n - 1) x std / sqrt(n)) as
    error bars; None (no bars at all) when no row has a known spread. A one-seed row has none."""
    std, n = frame[f"{metric}_std"], frame["n"].astype(float)
    if std.isna().all():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        half = sps.t.ppf(0.975, n - 1) * std / np.sqrt(n)
    return half.where(n > 1).fillna(0).to_numpy()


def _seeds(ax, runs: pd.DataFrame | None, summary: pd.DataFrame, metric: str, x: np.ndarray, offset: float = 0.0,
           colour: str = "black") -> None:
    """Every seed's value as a point over its variant's bar (a little apart where seeds are many)."""
    if runs is None or runs.empty or metric not in runs:
        return
    for i, (variant, device) in enumerate(zip(summary["variant"], summary["device"])):
        values = runs.loc[(runs["variant"] == variant) & (runs["device"] == device), metric].dropna().to_numpy()
        if len(values):
            spread = np.linspace(-0.08, 0.08, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(x[i] + offset + spread, values, s=9, color=colour, edgecolors="white", linewidths=0.4,
                       zorder=3)


def _seed_note(summary: pd.DataFrame) -> str:
    seeds = sorted({int(n) for n in summary["n"].dropna()})
    if seeds == [1]:
        return "one seed per variant: no error bars (spread unknown)"
    return f"mean over {'/'.join(map(str, seeds))} seeds (points); error bars: 95% t-interval of the mean"


def _learned_label(runs: pd.DataFrame | None, variant: str, device: str) -> str:
    """'k of n learned' where a variant's seeds split between learning and staying at chance (a
    two-state outcome, whose mean describes none of them); '' otherwise."""
    if runs is None or "learned" not in runs:
        return ""
    learned = runs.loc[(runs["variant"] == variant) & (runs["device"] == device), "learned"].dropna()
    k, n = int(learned.sum()), len(learned)
    return f"{k} of {n} learned" if 0 < k < n else ""


def _variant_ticks(ax, x: np.ndarray, summary: pd.DataFrame) -> None:
    several_devices = summary["device"].nunique() > 1
    labels = [f"{v} ({d})" if several_devices else v for v, d in zip(summary["variant"], summary["device"])]
    ax.set_xticks(x, labels, **_tick_style(labels))


def _tick_style(labels: list[str]) -> dict:
    # Long or many labels would run into each other: slant them.
    if len(labels) > 4 or max(len(label) for label in labels) > 8:
        return {"rotation": 30, "ha": "right", "fontsize": 8}
    return {"fontsize": 9}


def _seconds_scale(ax) -> None:
    # Times span from a fraction of a second to tens of seconds: log, with plain numbers as labels.
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _width(bars: int) -> float:
    return max(5.0, 1.0 + 0.9 * bars)


def _short(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def _bar_text(metric: str, device: str, variant: str, summary: pd.DataFrame) -> str:
    """The bar's value, and on a GPU epoch-time bar the speed-up over the same variant on the CPU."""
    row = summary[(summary["variant"] == variant) & (summary["device"] == device)]
    if row.empty:
        return ""
    value = row[f"{metric}_mean"].iloc[0]
    text = f"{value:.2f}" if metric == "steady_epoch_s" else f"{value:,.0f}"
    cpu = summary[(summary["variant"] == variant) & (summary["device"] == "cpu")]
    if metric == "steady_epoch_s" and device == "gpu" and not cpu.empty:
        text += f"\n{cpu['steady_epoch_s_mean'].iloc[0] / value:.1f}x faster"
    return text


def _axis_colours(axes: list[str]) -> dict[str, str]:
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
    ]
    return {axis: palette[i % len(palette)] for i, axis in enumerate(axes)}
