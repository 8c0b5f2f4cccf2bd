"""The regression guard (cnn/results/guard.py): pure arithmetic, no training."""

import json

import pytest

from cnn.results.guard import MIN_TOLERANCE, Baseline, variant_key

KEY = variant_key("cpu", "dropout", "0.2")


@pytest.fixture
def baseline(tmp_path):
    guard = Baseline.load(tmp_path / "baseline.json")
    guard.update("smoke", "mnist-5k", "fp", {KEY: [0.950, 0.955, 0.960]})
    return guard


def test_update_writes_mean_std_and_n(baseline, tmp_path):
    saved = json.loads((tmp_path / "baseline.json").read_text())
    entry = saved["smoke"]["variants"][KEY]
    assert entry["mean"] == pytest.approx(0.955) and entry["std"] == pytest.approx(0.005) and entry["n"] == 3


def test_a_clean_rerun_passes(baseline):
    assert baseline.check("smoke", "fp", KEY, [0.955]) is None
    # One variant: its own spread and df 2, the whole half-budget: t(0.995, 2) x 0.005 x sqrt(1 + 1/3) = 0.057.
    assert baseline.check("smoke", "fp", KEY, [0.90]) is None
    assert baseline.check("smoke", "fp", KEY, [0.895]) is not None


def test_improving_never_fails(baseline):
    assert baseline.check("smoke", "fp", KEY, [0.999]) is None


def test_a_planted_regression_fails_naming_the_variant(baseline):
    message = baseline.check("smoke", "fp", KEY, [0.80])
    assert message and KEY in message and "0.8000" in message and "regressed" in message


def test_tiny_seed_spread_still_allows_the_minimum_tolerance(tmp_path):
    guard = Baseline.load(tmp_path / "b.json")
    guard.update("smoke", "mnist-5k", "fp", {KEY: [0.95, 0.95, 0.95]})
    assert guard.check("smoke", "fp", KEY, [0.95 - MIN_TOLERANCE / 2]) is None
    assert guard.check("smoke", "fp", KEY, [0.95 - 2 * MIN_TOLERANCE]) is not None


def test_other_data_or_profile_is_not_guarded(baseline):
    assert baseline.check("smoke", "another-fingerprint", KEY, [0.1]) is None
    assert baseline.check("standard", "fp", KEY, [0.1]) is None


def test_updating_some_variants_keeps_the_others(baseline):
    other = variant_key("cpu", "speed", "fast")
    baseline.update("smoke", "mnist-5k", "fp", {other: [0.96, 0.97]})
    assert set(baseline.profiles["smoke"]["variants"]) == {KEY, other}
    baseline.update("smoke", "mnist-5k", "new-data", {other: [0.96, 0.97]})  # other data: the old entries go
    assert set(baseline.profiles["smoke"]["variants"]) == {other}


def test_update_from_runs_records_the_spread_of_the_metrics_declared_baseline_spread(tmp_path):
    import pandas as pd

    runs = pd.DataFrame(
        [
            {
                "axis": "dropout",
                "variant": "0.2",
                "device": "cpu",
                "seed": seed,
                "test_accuracy": 0.95 + seed / 100,
                "train_accuracy": 0.97,
                "accuracy_gap": 0.02,
                "loss_gap": 0.1,
                "steady_epoch_s": 1.0 + seed,
                "samples_per_s": 1000.0 * (seed + 1),
            }
            for seed in (0, 1)
        ]
    )
    guard = Baseline.load(tmp_path / "baseline.json")
    guard.update_from_runs("smoke", "mnist-5k", "fp", runs, {"keras": "3"})
    saved = json.loads((tmp_path / "baseline.json").read_text())["smoke"]
    assert saved["versions"] == {"keras": "3"} and saved["variants"][KEY]["n"] == 2
    spread = saved["variants"][KEY]["spread"]
    assert set(spread) == {
        "test_accuracy",
        "train_accuracy",
        "accuracy_gap",
        "loss_gap",
        "steady_epoch_s",
    }  # not samples/s
    assert spread["steady_epoch_s"] == pytest.approx(0.707107)


def test_no_entry_for_the_profile_or_the_data_says_accuracy_is_not_guarded(baseline, tmp_path):
    assert baseline.unguarded("smoke", "fp") is None
    path = tmp_path / "baseline.json"
    assert baseline.unguarded("standard", "fp") == (
        f"no baseline for profile standard in {path}: accuracy is not guarded; "
        "run once with --ablation-update-baseline")
    assert baseline.unguarded("smoke", "other-data").startswith(
        f"no baseline for profile smoke on this data (it has one for mnist-5k) in {path}: accuracy is not guarded")
    assert Baseline.load(tmp_path / "none.json").unguarded("smoke", "fp").startswith("no baseline for profile smoke in")


def grid(tmp_path, variants=40, sd=0.005):
    """A baseline of `variants` variants at 0.95, 3 seeds each, every spread about `sd`."""
    import numpy as np

    rng = np.random.default_rng(3)
    guard = Baseline.load(tmp_path / "grid.json")
    accuracies = {variant_key("cpu", "grid", str(i)): list(0.95 + sd * rng.standard_normal(3)) for i in range(variants)}
    guard.update("smoke", "mnist-5k", "fp", accuracies)
    return guard, accuracies


def test_a_grid_of_alike_spreads_lends_each_variant_df(tmp_path):
    """Moderated over 40 variants of one spread, a variant's bound has far more than its own 2 df,
    so it is tighter than its own spread alone would allow, and says so."""
    guard, accuracies = grid(tmp_path)
    key = next(iter(accuracies))
    entry = guard.profiles["smoke"]["variants"][key]
    message = guard.check("smoke", "fp", key, [entry["mean"] - 0.06])
    assert message is not None and "moderated over 40 variants" in message
    df = float(message.split(", df ")[1].split(")")[0])
    assert df > 10


def test_the_grid_check_catches_a_broad_small_drop_and_passes_unchanged_code(tmp_path):
    import numpy as np

    guard, accuracies = grid(tmp_path)
    rng = np.random.default_rng(4)
    entries = guard.profiles["smoke"]["variants"]
    new = {k: [entries[k]["mean"] + 0.005 * rng.standard_normal()] for k in accuracies}
    assert guard.grid_check("smoke", "fp", new) is None
    assert all(guard.check("smoke", "fp", k, [x[0] - 0.008]) is None for k, x in new.items())  # no bound sees it
    dropped = {k: [x[0] - 0.008] for k, x in new.items()}
    message = guard.grid_check("smoke", "fp", dropped)
    assert message and message.startswith("the smoke grid regressed as a whole: 40 variants fell by 0.0")
    assert guard.grid_check("smoke", "other-fp", dropped) is None
