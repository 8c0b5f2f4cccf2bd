"""The regression guard and the effect judgements (cnn/guard.py): pure arithmetic, no training."""

import json

import pytest

from cnn.grid import AXES, PROFILES, Effect
from cnn.guard import MIN_TOLERANCE, Baseline, judge_effect, variant_key

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
    assert baseline.check("smoke", "fp", KEY, [0.945]) is None  # within 3 std x sqrt(1 + 1/3)


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


EFFECT = Effect("accuracy_gap", "0.5", "0", "dropout narrows the gap")


def test_effect_shown_beyond_the_spread():
    outcome = judge_effect(EFFECT, low=[0.010, 0.012, 0.011], high=[0.030, 0.032, 0.031])
    assert outcome.verdict == "shown" and "0.0310" in outcome.text


def test_overlapping_seeds_give_no_clear_effect():
    outcome = judge_effect(EFFECT, low=[0.010, 0.030, 0.020], high=[0.015, 0.035, 0.025])
    assert outcome.verdict == "no clear effect"


def test_the_opposite_beyond_the_spread_is_contradicted():
    outcome = judge_effect(EFFECT, low=[0.030, 0.032, 0.031], high=[0.010, 0.012, 0.011])
    assert outcome.verdict == "contradicted"


def test_one_seed_without_a_known_spread_claims_nothing():
    assert judge_effect(EFFECT, low=[0.01], high=[0.05]).verdict == "no clear effect"
    assert judge_effect(EFFECT, low=[0.01], high=[0.05], low_std=0.002, high_std=0.002).verdict == "shown"


def test_every_effect_names_variants_of_its_axis():
    for name in AXES:
        axis = AXES.get(name)
        for effect in axis.effects:
            assert effect.low in axis.ids and effect.high in axis.ids, (name, effect)


def test_every_variant_config_is_valid_for_every_profile():
    from cnn.models import check_feature_maps

    for profile in PROFILES:
        for name in AXES:
            axis = AXES.get(name)
            for variant in axis.variants:
                for config in axis.configs(variant, PROFILES.get(profile).base(), seeds=1).values():
                    check_feature_maps(config, (28, 28, 1))  # raises when a pool or kernel does not fit


def test_updating_some_variants_keeps_the_others(baseline):
    other = variant_key("cpu", "speed", "fast")
    baseline.update("smoke", "mnist-5k", "fp", {other: [0.96, 0.97]})
    assert set(baseline.profiles["smoke"]["variants"]) == {KEY, other}
    baseline.update("smoke", "mnist-5k", "new-data", {other: [0.96, 0.97]})  # other data: the old entries go
    assert set(baseline.profiles["smoke"]["variants"]) == {other}
