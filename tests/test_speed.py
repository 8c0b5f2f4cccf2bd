"""cnn.results.speed: samples/s against the axis' reference recipe, fraction of peak, time-to-accuracy."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from cnn.results.speed import speed_frame, speed_table

FLOPS = 10_000_000  # forward, per image
# The speed axis' record as axes.json has it: a "speed" section, naive the reference.
AXES = [{"name": "speed", "sections": ["speed"], "reference": "naive", "variants": [{"id": "naive"}, {"id": "fast"}]}]


def figures(runs, history, peaks, target=None, axes=AXES):
    return speed_frame(runs, history, peaks, axes, target)


def frames(clocks: dict[str, list] | None = None):
    """Two seeds each of naive (1,000 samples/s; epochs of 2 s reaching 0.90, 0.94, 0.96) and fast
    (4,000 samples/s; epochs of 0.5 s reaching 0.80, 0.92, 0.95, 0.97)."""
    curves = {"naive": ([2.0, 2.0, 2.0], [0.90, 0.94, 0.96]), "fast": ([0.5, 0.5, 0.5, 0.5], [0.80, 0.92, 0.95, 0.97])}
    runs, history = [], []
    for variant, (seconds, accuracies) in curves.items():
        for seed in (0, 1):
            runs.append(
                {
                    "axis": "speed",
                    "variant": variant,
                    "device": "cpu",
                    "seed": seed,
                    "test_accuracy": accuracies[-1],
                    "samples_per_s": 1000.0 if variant == "naive" else 4000.0,
                    "flops_per_sample": FLOPS,
                    "precision": "float32" if variant == "naive" else "mixed_bfloat16",
                    "accuracy_clock": json.dumps((clocks or {}).get(variant, []))
                    if clocks and variant in clocks
                    else "",
                }
            )
            for epoch, (s, a) in enumerate(zip(seconds, accuracies)):
                history.append({"axis": "speed", "variant": variant, "device": "cpu", "seed": seed, "epoch": epoch + 1,
                                "epoch_s": s, "val_accuracy": a})
    return pd.DataFrame(runs), pd.DataFrame(history)


def test_throughput_and_fraction_of_peak():
    speed = figures(*frames(), {"float32": 100.0, "bfloat16": 200.0}).set_index("variant")
    assert speed.loc["fast", "speedup"] == 4.0 and speed.loc["naive", "speedup"] == 1.0
    assert speed.loc["fast", "gflops"] == pytest.approx(3 * FLOPS * 4000 / 1e9)  # 120 GFLOP/s
    assert speed.loc["fast", "fraction_of_peak"] == pytest.approx(120 / 200)  # against the bfloat16 peak
    assert speed.loc["naive", "fraction_of_peak"] == pytest.approx(30 / 100)


def test_time_to_accuracy_at_epoch_ends_against_naive_three_epochs():
    speed = figures(*frames(), {}).set_index("variant")
    assert speed.loc["fast", "target_accuracy"] == 0.96 and speed.loc["fast", "naive_target_epoch_s"] == 6.0
    assert speed.loc["fast", "time_to_target_s"] == 2.0  # 0.97 after the 4th half-second epoch
    assert speed.loc["fast", "time_vs_naive"] == pytest.approx(2.0 / 6.0)
    assert speed.loc["naive", "time_to_target_s"] == 6.0
    assert math.isnan(speed.loc["fast", "fraction_of_peak"])  # no peak measured in this run


def test_the_accuracy_clock_is_finer_than_epochs():
    clock = [[0.5, 1000, 0.80], [1.2, 2400, 0.961], [1.5, 3000, 0.95]]
    speed = figures(*frames({"fast": clock}), {}).set_index("variant")
    assert speed.loc["fast", "time_to_target_s"] == 1.2  # first reached mid-epoch, even if it dips later


def test_a_seed_that_never_reaches_the_target_is_counted_not_averaged_in():
    # The smoke profile's speedrun reached the naive target in 2 of 3 seeds: its time is the mean
    # over those, with "2/3" beside it, rather than n/a for the whole variant.
    runs, history = frames()
    history.loc[(history["variant"] == "fast") & (history["seed"] == 1), "val_accuracy"] = 0.5
    speed = figures(runs, history, {}).set_index("variant")
    assert speed.loc["fast", "reached"] == 1 and speed.loc["fast", "n"] == 2
    assert speed.loc["fast", "time_to_target_s"] == 2.0 and speed.loc["fast", "time_vs_naive"] == pytest.approx(2 / 6)
    [fast] = [line for line in speed_table(speed.reset_index(), {}).splitlines() if line.strip().startswith("fast")]
    assert "2.00 (1/2)" in fast
    [naive] = [line for line in speed_table(speed.reset_index(), {}).splitlines() if line.strip().startswith("naive")]
    assert "6.00 " in naive and "/2)" not in naive  # every seed got there: no count


def test_a_target_no_seed_reaches_is_not_reached():
    runs, history = frames()
    history.loc[history["variant"] == "fast", "val_accuracy"] = 0.5
    speed = figures(runs, history, {}).set_index("variant")
    assert speed.loc["fast", "reached"] == 0 and math.isnan(speed.loc["fast", "time_to_target_s"])
    assert "not reached" in speed_table(speed.reset_index(), {})


def test_a_fixed_target_the_reference_reaches_in_some_seeds_says_so():
    runs, history = frames()
    history.loc[(history["variant"] == "naive") & (history["seed"] == 1), "val_accuracy"] = 0.5
    speed = figures(runs, history, {}, target=0.90).set_index("variant")
    assert speed.loc["naive", "naive_target_epoch_s"] == 2.0 and speed.loc["naive", "naive_reached"] == 1
    assert "reached it after 2.00 s of training (in 1 of 2 seeds)" in speed_table(speed.reset_index(), {})


def test_the_smoke_profile_fixes_a_target_the_fast_presets_reach():
    """At 4,000 digits the naive recipe's 3-epoch accuracy is out of the fast path's reach (24 steps
    at batch 512): the smoke profile sets a target of its own, below what fast and speedrun reach."""
    from cnn.ablate.profiles import PROFILES

    target = PROFILES.get("smoke").target_accuracy
    assert target is not None and 0.5 < target < 0.95


def test_no_naive_run_no_figures():
    runs, history = frames()
    assert figures(runs[runs["variant"] != "naive"], history, {}).empty


def test_table_names_the_target_and_each_variant():
    text = speed_table(figures(*frames(), {"float32": 100.0}), {"float32": 100.0})
    assert "target: 0.9600, the naive recipe's mean test accuracy after 3 epochs; those 3 epochs took it 6.00 s" in text
    assert "fast" in text and "4.00" in text and "0.33" in text
    # The columns are explained where they are printed: why naive's own share is below 1.
    assert "share of naive" in text and "below 1 for naive: it gets there within the epoch" in text


def test_a_fixed_target_is_measured_against_naive_s_own_time_to_it():
    # The full profile's 0.90: naive first reaches it after its first epoch (2 s), fast after its
    # second (0.5 + 0.5 s), so fast takes half naive's time to the target.
    speed = figures(*frames(), {}, target=0.90).set_index("variant")
    assert speed.loc["naive", "naive_target_epoch_s"] == 2.0 and speed.loc["naive", "target_epoch"] == 0
    assert speed.loc["fast", "time_to_target_s"] == 1.0 and speed.loc["fast", "time_vs_naive"] == 0.5
    text = speed_table(speed.reset_index(), {})
    assert "target: 0.9000, the profile's; the naive recipe reached it after 2.00 s of training" in text
    assert "share of naive: s to target / naive's own s to target" in text


def test_a_fixed_target_naive_never_reaches_gives_no_ratio():
    speed = figures(*frames(), {}, target=0.99).set_index("variant")
    assert math.isnan(speed.loc["naive", "naive_target_epoch_s"]) and math.isnan(speed.loc["fast", "time_vs_naive"])
    text = speed_table(speed.reset_index(), {})
    assert "target: 0.9900, the profile's; the naive recipe did not reach it in any seed" in text


def test_table_says_n_a_where_the_peak_was_not_measured():
    text = speed_table(figures(*frames(), {"float32": 100.0}), {"float32": 100.0})
    [fast] = [line for line in text.splitlines() if line.strip().startswith("fast")]
    [naive] = [line for line in text.splitlines() if line.strip().startswith("naive")]
    assert "nan" not in text.lower().replace("naive", "")
    assert "n/a (peak not measured)" in fast  # bfloat16 peak not timed in this run
    assert "30% of float32" in naive


def test_any_axis_with_a_speed_section_gets_figures_against_its_declared_reference():
    runs, history = frames()
    runs, history = runs.assign(axis="recipes"), history.assign(axis="recipes")
    record = {
        "name": "recipes",
        "sections": ["speed"],
        "reference": "fast",
        "variants": [{"id": "naive"}, {"id": "fast"}],
    }
    speed = figures(runs, history, {}, axes=[record]).set_index("variant")
    assert (
        speed.loc["naive", "speedup"] == 0.25
        and (speed["axis"] == "recipes").all()
        and (speed["reference"] == "fast").all()
    )
    assert figures(runs, history, {}, axes=[{**record, "sections": []}]).empty  # no speed section, no figures
    text = speed_table(speed.reset_index(), {})
    assert text.startswith("recipes (matmul peak") and "x fast" in text and "share of fast" in text


def test_the_reference_defaults_to_the_axis_first_variant_and_precision_comes_from_runs():
    runs, history = frames()
    speed = figures(runs, history, {"float32": 100.0, "bfloat16": 200.0}, axes=[{**AXES[0], "reference": None}])
    speed = speed.set_index("variant")
    assert speed.loc["fast", "speedup"] == 4.0  # against naive, the first variant
    assert speed.loc["fast", "precision"] == "bfloat16" and speed.loc["naive", "precision"] == "float32"
    older = figures(runs.drop(columns="precision"), history, {"float32": 100.0}).set_index("variant")
    assert older.loc["fast", "precision"] == "float32"  # rows written before the column: the config default
