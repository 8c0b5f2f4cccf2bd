"""cnn.results.stats: each function against scipy's own results and textbook values, then the
calibration issue 22 asks for, as simulations with fixed seeds that run in seconds:

(a) null studies: the family-wise rate of false "shown" with Welch + Holm is <= 5%;
(b) the guard's bound: a grid of unchanged code with new seeds fails by chance within its budget;
(c) planted effects of min_effect get the power the seed planner promised;
(d) the old rule (difference > 2 standard errors) has the false-claim rate that replaced it.

`pytest -s tests/test_stats.py` prints the measured rates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from cnn.results.stats import (
    EXACT,
    FISHER,
    POOLED,
    WELCH,
    Comparison,
    binary,
    compare,
    decide,
    grid_shift,
    grid_spreads,
    guard_bound,
    holm,
    moderated_spread,
    per_variant_false_alarm,
    pooled_spread,
    power_at,
    seeds_needed,
    smallest_detectable,
    verdict,
)

LOW, HIGH = [0.980, 0.985, 0.975], [0.990, 0.992, 0.995]


def stochastic(**kwargs):
    return compare(LOW, HIGH, scale="linear", deterministic=False, min_effect=0.01, **kwargs)


# --- compare ------------------------------------------------------------------------------------


def test_welch_is_scipys_welch_with_its_interval():
    c = stochastic()
    greater = sps.ttest_ind(HIGH, LOW, equal_var=False, alternative="greater")
    two_sided = sps.ttest_ind(HIGH, LOW, equal_var=False)
    assert c.test == WELCH and (c.n_low, c.n_high) == (3, 3)
    assert c.estimate == pytest.approx(np.mean(HIGH) - np.mean(LOW))
    assert c.p == pytest.approx(greater.pvalue) and c.df == pytest.approx(greater.df)
    assert c.p_opposite == pytest.approx(1 - greater.pvalue)
    interval = two_sided.confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == (pytest.approx(interval.low), pytest.approx(interval.high))
    assert (c.sd_low, c.sd_high) == (pytest.approx(np.std(LOW, ddof=1)), pytest.approx(np.std(HIGH, ddof=1)))


def test_tost_is_the_larger_of_the_two_shifted_one_sided_welch_tests():
    low, high = [0.980, 0.982, 0.979, 0.981], [0.981, 0.983, 0.980, 0.982]
    c = compare(low, high, scale="linear", deterministic=False, min_effect=0.005)
    above = sps.ttest_ind(high, np.subtract(low, 0.005), equal_var=False, alternative="greater").pvalue
    below = sps.ttest_ind(high, np.add(low, 0.005), equal_var=False, alternative="less").pvalue
    assert c.p_equivalence == pytest.approx(max(above, below))
    assert c.p_equivalence < 0.01  # a precise small change is equivalent within 0.005


def test_a_pooled_spread_of_the_two_sides_is_students_t():
    sd, df = pooled_spread([LOW, HIGH])
    assert df == 4
    c = stochastic(pooled_sd=sd, pooled_df=df)
    student = sps.ttest_ind(HIGH, LOW, equal_var=True, alternative="greater")
    assert c.test == POOLED and c.df == 4 and c.p == pytest.approx(student.pvalue)
    interval = sps.ttest_ind(HIGH, LOW, equal_var=True).confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == (pytest.approx(interval.low), pytest.approx(interval.high))


def test_a_pooled_spread_judges_one_seed_with_the_studys_df():
    c = compare([0.98], [0.99], scale="linear", deterministic=False, min_effect=0.01, pooled_sd=0.004, pooled_df=60)
    assert c.df == 60 and c.p == pytest.approx(sps.t.sf(0.01 / (0.004 * math.sqrt(2)), 60))
    with pytest.raises(ValueError, match="two seeds a side"):
        compare([0.98], [0.99], scale="linear", deterministic=False, min_effect=0.01)


def test_pooled_spread_weighs_each_variant_by_its_df_and_skips_one_seed():
    sd, df = pooled_spread([[1.0, 2.0, 3.0], [5.0, 7.0], [9.0]])
    assert df == 3 and sd == pytest.approx(math.sqrt((2 * 1.0 + 1 * 2.0) / 3))
    log_sd, _ = pooled_spread([[1.0, 10.0], [100.0, 1000.0]], scale="log")
    assert log_sd == pytest.approx(np.std([0, 1], ddof=1))
    with pytest.raises(ValueError, match="nothing to pool"):
        pooled_spread([[1.0], [2.0]])


def test_log_scale_compares_log10_values_and_gives_a_ratio():
    low, high = [1.0, 1.2, 1.1], [2.0, 2.3, 2.1]
    c = compare(low, high, scale="log", deterministic=False, min_effect=1.1)
    on_logs = sps.ttest_ind(np.log10(high), np.log10(low), equal_var=False, alternative="greater")
    assert c.estimate == pytest.approx(sps.gmean(high) / sps.gmean(low)) and c.null == 1.0
    assert c.p == pytest.approx(on_logs.pvalue)
    assert c.ci_low < c.estimate < c.ci_high and c.ci_low > 1
    with pytest.raises(ValueError, match="ratio and must be > 1"):
        compare(low, high, scale="log", deterministic=False, min_effect=0.1)
    with pytest.raises(ValueError, match="<= 0 on a log scale"):
        compare([0.0, 1.0], high, scale="log", deterministic=False, min_effect=1.1)


def test_deterministic_metrics_are_compared_exactly():
    more = compare([100, 100], [120, 120], scale="linear", deterministic=True, min_effect=0)
    assert more.test == EXACT and more.p is None and more.estimate == more.ci_low == more.ci_high == 20
    assert verdict(more) == "shown"
    assert verdict(compare([120], [100], scale="linear", deterministic=True, min_effect=0)) == "contradicted"
    assert verdict(compare([100], [100, 100], scale="linear", deterministic=True, min_effect=0)) == "equivalent"
    with pytest.raises(ValueError, match="declared deterministic"):
        compare([100, 101], [120, 120], scale="linear", deterministic=True, min_effect=0)


def test_compare_refuses_what_it_cannot_judge():
    with pytest.raises(ValueError, match="same value"):
        compare([0.1, 0.1], [0.1, 0.1], scale="linear", deterministic=False, min_effect=0.01)
    with pytest.raises(ValueError, match="NaN"):
        compare([0.1, float("nan")], [0.2, 0.3], scale="linear", deterministic=False, min_effect=0.01)
    with pytest.raises(ValueError, match="no values"):
        compare([], [0.2, 0.3], scale="linear", deterministic=False, min_effect=0.01)
    with pytest.raises(ValueError, match="must be > 0"):
        compare(LOW, HIGH, scale="linear", deterministic=False, min_effect=0)


# --- binary -------------------------------------------------------------------------------------


def test_binary_is_fishers_exact_test_with_newcombes_interval():
    c = binary(0, 3, 3, 3)
    assert c.test == FISHER and c.estimate == 1.0 and c.p_equivalence is None
    assert c.p == pytest.approx(0.05)  # 1 / C(6, 3): the one table as extreme
    assert c.p == pytest.approx(sps.fisher_exact([[3, 0], [0, 3]], alternative="greater").pvalue)
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    newcombe = binary(48, 80, 56, 70)
    assert newcombe.estimate == pytest.approx(0.2)
    assert (round(newcombe.ci_low, 4), round(newcombe.ci_high, 4)) == (0.0524, 0.3339)
    with pytest.raises(ValueError, match="count of seeds"):
        binary(4, 3, 1, 3)


# --- holm, verdict, decide ----------------------------------------------------------------------


def test_holm_steps_down_monotone_and_capped():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> made monotone: 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.02]) == pytest.approx([0.02])
    np.testing.assert_allclose(holm([[0.01, 0.04], [0.04, 0.01]]), [[0.02, 0.04], [0.04, 0.02]])  # along the last axis
    assert holm([]).size == 0
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        holm([0.1, float("nan")])


def comparison(estimate, p, p_opposite, p_equivalence=None):
    return Comparison(WELCH, "95% t", "linear", estimate, estimate - 1, estimate + 1, p, p_opposite, p_equivalence,
                      3, 3, 4.0, 0.01)


def test_verdicts():
    assert verdict(comparison(0.02, 0.01, 0.99), 0.04, adjusted_opposite=1.0) == "shown"
    assert verdict(comparison(0.02, 0.01, 0.99), 0.06, adjusted_opposite=1.0) == "undetermined"
    assert verdict(comparison(-0.02, 0.99, 0.01), 1.0, adjusted_opposite=0.03) == "contradicted"
    assert verdict(comparison(0.001, 0.3, 0.7, 0.01), 1.0, adjusted_opposite=1.0, adjusted_equivalence=0.02) \
        == "equivalent"
    assert verdict(comparison(0.001, 0.3, 0.7, 0.01), 1.0, adjusted_opposite=1.0, adjusted_equivalence=0.2) \
        == "undetermined"
    with pytest.raises(ValueError, match="Holm-adjusted"):
        verdict(comparison(0.02, 0.01, 0.99))


def test_decide_adjusts_over_the_stochastic_claims_only():
    claims = [comparison(0.02, 0.01, 0.99, 0.9), comparison(0.02, 0.02, 0.98, 0.9), comparison(0.0, 0.5, 0.5, 0.01),
              compare([10], [12], scale="linear", deterministic=True, min_effect=0)]
    decisions = decide(claims)
    assert [d.verdict for d in decisions] == ["shown", "shown", "equivalent", "shown"]
    assert [d.p for d in decisions] == pytest.approx([0.03, 0.04, 0.5, None])
    assert decisions[2].p_equivalence == pytest.approx(0.03) and decisions[3].p is None
    learned = decide([binary(0, 3, 3, 3), binary(0, 3, 3, 3)])  # p 0.05 each: Holm makes them 0.1
    assert [d.verdict for d in learned] == ["undetermined"] * 2 and learned[0].p == pytest.approx(0.1)


# --- the seed planner ---------------------------------------------------------------------------


def test_seeds_needed_matches_cohens_tables():
    # Two-sample t, power 0.8 (Cohen 1988, table 2.4.1): d = 0.5 needs 64 a side two-sided, 51 one-sided;
    # d = 1 one-sided, 14.
    assert seeds_needed(1, 1, 0.5, alternative="two-sided") == 64
    assert seeds_needed(1, 1, 0.5) == 51
    assert seeds_needed(1, 1, 1.0) == 14
    assert power_at(1, 1, 51, 0.5) >= 0.8 > power_at(1, 1, 50, 0.5)
    assert seeds_needed(0.0, 0.0, 0.01) == 2
    assert seeds_needed(0.01, 0.01, 1.1, scale="log") == seeds_needed(0.01, 0.01, math.log10(1.1))
    with pytest.raises(ValueError, match="more than 10 seeds"):
        seeds_needed(1, 1, 0.01, limit=10)


def test_smallest_detectable_inverts_the_power():
    delta = smallest_detectable(0.003, 3, 0.012, 3)
    assert power_at(0.003, 0.012, 3, delta) == pytest.approx(0.8, abs=1e-6)
    assert smallest_detectable(0.003, 2, 0.012, 2) > delta  # fewer seeds see less
    assert smallest_detectable(0.01, 1, 0.01, 1, df=60) < smallest_detectable(0.01, 2, 0.01, 2)
    ratio = smallest_detectable(0.02, 3, 0.02, 3, scale="log")
    assert ratio == pytest.approx(10 ** smallest_detectable(0.02, 3, 0.02, 3))
    with pytest.raises(ValueError, match="two seeds a side"):
        smallest_detectable(0.01, 1, 0.01, 3)


# --- the guard ----------------------------------------------------------------------------------


def test_guard_bound_is_a_t_prediction_bound_with_a_floor():
    bound = guard_bound(0.98, 0.004, 5, 3, false_alarm=0.001, floor=0.005)
    assert bound == pytest.approx(0.98 - sps.t.ppf(0.999, 4) * 0.004 * math.sqrt(1 / 3 + 1 / 5))
    assert guard_bound(0.98, 0.0001, 5, 3, false_alarm=0.001, floor=0.015) == pytest.approx(0.965)
    pooled = guard_bound(0.98, 0.004, 2, 2, false_alarm=0.001, floor=0.0, df=60)
    assert pooled == pytest.approx(0.98 - sps.t.ppf(0.999, 60) * 0.004)
    assert guard_bound([0.98, 0.97], [0.004, 0.004], 5, 3, false_alarm=0.001, floor=0).shape == (2,)
    with pytest.raises(ValueError, match="one seed"):
        guard_bound(0.98, 0.004, 1, 3, false_alarm=0.001, floor=0.015)


def test_per_variant_false_alarm_is_bonferronis_split():
    assert per_variant_false_alarm(0.01, 90) == pytest.approx(0.01 / 90)
    with pytest.raises(ValueError, match="budget"):
        per_variant_false_alarm(0.0, 90)


# --- calibration --------------------------------------------------------------------------------
# A study like the committed ones: 21 variants, the control (the base) with the largest spread of
# the study and the control of 12 claims, 27 claims in all, each variant's true test-accuracy spread
# between 0.003 and 0.012 (results/full/summary.csv: 0.001-0.021 over two seeds), 2 or 3 seeds a side.

ALPHA = 0.05
MEAN = 0.98
VARIANTS = 21
CONTROL_SD = 0.012


def study_design(rng):
    sds = np.concatenate([[CONTROL_SD], rng.uniform(0.003, 0.012, VARIANTS - 1)])
    claims = [(0, i) if i % 2 else (i, 0) for i in range(1, 13)]  # the control as low or high side
    others = rng.permutation([(a, b) for a in range(1, VARIANTS) for b in range(1, VARIANTS) if a < b])
    claims += [tuple(pair) for pair in others[:15]]
    return sds, np.array(claims)


def simulate(rng, sds, claims, seeds, studies, shift=None):
    """low and high values, (studies, claims, seeds) each; `shift` (claims,) is added to the high side."""
    values = MEAN + sds[None, :, None] * rng.standard_normal((studies, len(sds), seeds))
    low, high = values[:, claims[:, 0]], values[:, claims[:, 1]]
    return low, (high if shift is None else high + np.asarray(shift)[None, :, None])


def verdicts_of(low, high, min_effect, alpha=ALPHA, joint_directions=False):
    """compare() + decide() over whole arrays of studies at once (the same scipy tests, vectorised):
    'shown', 'contradicted', 'equivalent' or 'undetermined' per (study, claim)."""
    welch = dict(axis=-1, equal_var=False)
    p = sps.ttest_ind(high, low, alternative="greater", **welch).pvalue
    p_opposite = sps.ttest_ind(high, low, alternative="less", **welch).pvalue
    tost = np.maximum(sps.ttest_ind(high, low - min_effect, alternative="greater", **welch).pvalue,
                      sps.ttest_ind(high, low + min_effect, alternative="less", **welch).pvalue)
    difference = high.mean(axis=-1) - low.mean(axis=-1)
    out = np.full(p.shape, "undetermined", dtype=object)
    out[holm(tost) <= alpha] = "equivalent"
    if joint_directions:
        both = holm(np.concatenate([p, p_opposite], axis=-1))
        p, p_opposite = both[..., : p.shape[-1]], both[..., p.shape[-1]:]
    else:
        p, p_opposite = holm(p), holm(p_opposite)
    out[(p_opposite <= alpha) & (difference < 0)] = "contradicted"
    out[(p <= alpha) & (difference > 0)] = "shown"
    return out


def test_the_vectorised_verdicts_are_decides():
    rng = np.random.default_rng(220)
    sds, claims = study_design(rng)
    shift = rng.choice([0.0, 0.03, -0.03, 0.001], size=len(claims))
    low, high = simulate(rng, sds, claims, seeds=3, studies=3, shift=shift)
    vectorised = verdicts_of(low, high, min_effect=0.01)
    joint = verdicts_of(low, high, min_effect=0.01, joint_directions=True)
    for study in range(3):
        comparisons = [compare(low[study, c], high[study, c], scale="linear", deterministic=False, min_effect=0.01)
                       for c in range(len(claims))]
        assert [d.verdict for d in decide(comparisons)] == list(vectorised[study])
        assert [d.verdict for d in decide(comparisons, joint_directions=True)] == list(joint[study])
    assert {"shown", "contradicted", "undetermined"} <= set(vectorised.ravel())


@pytest.mark.parametrize("seeds", [2, 3])
def test_null_studies_claim_a_false_effect_in_at_most_5_percent_of_runs(seeds):
    """(a) No real effect anywhere: the share of runs with any "shown" is <= 5% (Holm's promise)."""
    rng = np.random.default_rng(22 + seeds)
    sds, claims = study_design(rng)
    studies = 4000
    low, high = simulate(rng, sds, claims, seeds, studies)
    verdicts = verdicts_of(low, high, min_effect=0.01)
    false_shown = (verdicts == "shown").any(axis=1).mean()
    false_contradicted = (verdicts == "contradicted").any(axis=1).mean()
    either = np.isin(verdicts, ["shown", "contradicted"]).any(axis=1).mean()
    joint = np.isin(verdicts_of(low, high, min_effect=0.01, joint_directions=True), ["shown", "contradicted"])
    margin = 3 * math.sqrt(ALPHA * (1 - ALPHA) / studies)
    print(f"\n(a) {seeds} seeds a side, {len(claims)} claims, {studies} null studies: runs with a false 'shown' "
          f"{false_shown:.2%}, a false 'contradicted' {false_contradicted:.2%}, either {either:.2%}; "
          f"either with joint_directions {joint.any(axis=1).mean():.2%}")
    assert false_shown <= ALPHA + margin and false_contradicted <= ALPHA + margin
    assert either <= 2 * ALPHA + margin and joint.any(axis=1).mean() <= ALPHA + margin


def test_real_effects_elsewhere_leave_the_null_claims_within_5_percent():
    """(a) Holm steps down past the real effects: with 13 of the 27 claims real (+0.03), the runs with
    a false "shown" among the other 14 stay <= 5%."""
    rng = np.random.default_rng(26)
    sds, claims = study_design(rng)
    studies, real = 4000, np.arange(len(claims)) % 2 == 1
    low, high = simulate(rng, sds, claims, 3, studies, shift=np.where(real, 0.03, 0.0))
    verdicts = verdicts_of(low, high, min_effect=0.01)
    false_shown = (verdicts[:, ~real] == "shown").any(axis=1).mean()
    print(f"\n(a) 3 seeds a side, {real.sum()} real effects of 0.03 among {len(claims)} claims: runs with a false "
          f"'shown' {false_shown:.2%}; real ones shown {(verdicts[:, real] == 'shown').mean():.1%}")
    assert false_shown <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / studies)


@pytest.mark.parametrize("seeds", [2, 3])
def test_the_old_rule_claimed_a_false_effect_18_and_12_percent_of_the_time(seeds):
    """(d) Why it was replaced: difference beyond 2 standard errors, no correction. With equal spreads
    the statistic is a t with 2n - 2 df: two-sided 18% at 2 seeds a side, 12% at 3."""
    rng = np.random.default_rng(122 + seeds)
    checks = 100_000
    expected = 2 * sps.t.sf(2.0, 2 * seeds - 2)
    rates = {}
    for label, (sd_low, sd_high) in {"equal": (0.006, 0.006), "0.003 vs 0.012": (0.003, 0.012)}.items():
        low = sd_low * rng.standard_normal((checks, seeds))
        high = sd_high * rng.standard_normal((checks, seeds))
        error = np.sqrt(low.var(axis=1, ddof=1) / seeds + high.var(axis=1, ddof=1) / seeds)
        rates[label] = (np.abs(high.mean(axis=1) - low.mean(axis=1)) > 2 * error).mean()
    sds, claims = study_design(rng)
    low, high = simulate(rng, sds, claims, seeds, 4000)
    error = np.sqrt(low.var(axis=-1, ddof=1) / seeds + high.var(axis=-1, ddof=1) / seeds)
    family = (np.abs(high.mean(axis=-1) - low.mean(axis=-1)) > 2 * error).any(axis=1).mean()
    print(f"\n(d) old rule at {seeds} seeds a side: false claims per check {rates['equal']:.1%} with equal spreads "
          f"(t theory {expected:.1%}), {rates['0.003 vs 0.012']:.1%} with 0.003 vs 0.012; runs of "
          f"{len(claims)} null claims with a false claim {family:.1%}")
    assert rates["equal"] == pytest.approx(expected, abs=3 * math.sqrt(expected / checks))
    assert round(expected, 2) == {2: 0.18, 3: 0.12}[seeds]
    assert rates["0.003 vs 0.012"] > rates["equal"] and family > 0.8


def test_a_false_equivalence_at_the_margin_is_rare_across_the_run():
    """"Equivalent" is a claim too: with every true change exactly at +min_effect, Holm over the TOST
    p rejects anywhere in <= 5% of runs (the verdict is then mostly "shown", which comes first and
    is true). Eight seeds a side and a third of the spread, so that TOST can reject at all."""
    rng = np.random.default_rng(2022)
    sds, claims = study_design(rng)
    studies, min_effect = 2000, 0.01
    low, high = simulate(rng, sds / 3, claims, 8, studies, shift=np.full(len(claims), min_effect))
    welch = dict(axis=-1, equal_var=False)
    tost = np.maximum(sps.ttest_ind(high, low - min_effect, alternative="greater", **welch).pvalue,
                      sps.ttest_ind(high, low + min_effect, alternative="less", **welch).pvalue)
    any_tost = (holm(tost) <= ALPHA).any(axis=1).mean()
    any_equivalent = (verdicts_of(low, high, min_effect) == "equivalent").any(axis=1).mean()
    print(f"\n(e) true change = min_effect on all {len(claims)} claims, 8 seeds: runs where Holm's TOST rejects "
          f"{any_tost:.2%}, runs with an 'equivalent' verdict {any_equivalent:.2%}")
    margin = 3 * math.sqrt(ALPHA * (1 - ALPHA) / studies)
    assert any_tost <= ALPHA + margin and any_equivalent <= any_tost


GUARD_VARIANTS, BUDGET = 90, 0.01


@pytest.mark.parametrize("seeds", [2, 3])
def test_the_guard_fails_a_grid_of_unchanged_code_within_its_budget(seeds):
    """(b) 90 variants, new seeds on unchanged code: the share of grid runs where any variant falls
    below its bound is within the 1% budget (and, with no floor, is the budget itself: the bound is
    exact for normal seeds)."""
    rng = np.random.default_rng(33 + seeds)
    grids = 20_000
    sds = rng.uniform(0.003, 0.012, GUARD_VARIANTS)
    false_alarm = per_variant_false_alarm(BUDGET, GUARD_VARIANTS)

    def draw():
        return MEAN + sds[None, :, None] * rng.standard_normal((grids, GUARD_VARIANTS, seeds))

    baseline, new = draw(), draw()
    mean, sd = baseline.mean(axis=-1), baseline.std(axis=-1, ddof=1)
    new_mean = new.mean(axis=-1)
    rates, tolerance = {}, {}
    for floor in (0.015, 0.0):
        bound = guard_bound(mean, sd, seeds, seeds, false_alarm=false_alarm, floor=floor)
        rates[floor] = (new_mean < bound).any(axis=1).mean()
        tolerance[floor] = float(np.median(mean - bound))
    # The same with a spread pooled over the grid (df = 90 (n - 1)): a usable tolerance, but the
    # variants' true spreads differ, so the noisy ones alarm more often than the budget allows.
    pooled_sd = np.sqrt((sd**2).mean(axis=1, keepdims=True))
    pooled_df = GUARD_VARIANTS * (seeds - 1)
    for floor in (0.015, 0.0):
        bound = guard_bound(mean, pooled_sd, seeds, seeds, false_alarm=false_alarm, floor=floor, df=pooled_df)
        rates["pooled", floor] = (new_mean < bound).any(axis=1).mean()
        tolerance["pooled", floor] = float(np.median(mean - bound))
    expected = 1 - (1 - false_alarm) ** GUARD_VARIANTS
    margin = 4 * math.sqrt(expected / grids)
    print(f"\n(b) guard, {GUARD_VARIANTS} variants, {seeds} baseline and new seeds, budget {BUDGET:.0%} "
          f"({false_alarm:.3g} a variant), {grids} grids: own df {seeds - 1}: {rates[0.015]:.2%} with the "
          f"0.015 floor, {rates[0.0]:.2%} without (median tolerance {tolerance[0.0]:.3f}); pooled df {pooled_df}: "
          f"{rates['pooled', 0.015]:.2%} with the floor, {rates['pooled', 0.0]:.2%} without (median tolerance "
          f"{tolerance['pooled', 0.0]:.3f})")
    assert rates[0.015] <= BUDGET + margin
    assert rates[0.0] == pytest.approx(expected, abs=margin)
    # Why the spread is not simply pooled over the grid: spreads differ 4x between variants.
    assert rates["pooled", 0.0] > 3 * BUDGET


@pytest.mark.parametrize("sd_low, sd_high, min_effect, scale", [
    (0.006, 0.006, 0.01, "linear"),
    (0.003, 0.012, 0.01, "linear"),  # the base's spread against a quiet variant
    (0.02, 0.05, 1.1, "log"),  # log10 spreads of epoch times; a 10% change
])
def test_planted_effects_get_the_power_the_planner_promised(sd_low, sd_high, min_effect, scale):
    """(c) A true change of min_effect, seeds_needed() seeds a side: Welch's t shows it about as often
    as power_at() promised (>= 80%)."""
    rng = np.random.default_rng(44)
    seeds = seeds_needed(sd_low, sd_high, min_effect, scale=scale)
    promised = power_at(sd_low, sd_high, seeds, min_effect, scale=scale)
    studies = 4000
    low, high = sd_low * rng.standard_normal((studies, seeds)), sd_high * rng.standard_normal((studies, seeds))
    if scale == "log":  # epoch times of about 2 s, the high side min_effect times slower; compared on log10
        low, high = np.log10(2.0 * 10**low), np.log10(2.0 * min_effect * 10**high)
    else:
        high = high + min_effect
    shown = (sps.ttest_ind(high, low, axis=-1, equal_var=False, alternative="greater").pvalue <= ALPHA).mean()
    print(f"\n(c) sds {sd_low}/{sd_high} ({scale}), min_effect {min_effect}: {seeds} seeds a side, promised "
          f"{promised:.1%}, measured {shown:.1%}")
    assert promised >= 0.8
    assert shown == pytest.approx(promised, abs=3 * math.sqrt(0.8 * 0.2 / studies) + 0.01)


def test_a_planted_effect_among_null_claims_gets_its_power_after_holm():
    """(c) Planning at alpha / m (Holm's first step) promises the power whatever the other claims do."""
    rng = np.random.default_rng(45)
    sds, claims = study_design(rng)
    low_sd, high_sd = sds[claims[0, 0]], sds[claims[0, 1]]
    seeds = seeds_needed(low_sd, high_sd, 0.01, alpha=ALPHA / len(claims))
    promised = power_at(low_sd, high_sd, seeds, 0.01, alpha=ALPHA / len(claims))
    studies = 2000
    shift = np.zeros(len(claims))
    shift[0] = 0.01
    low, high = simulate(rng, sds, claims, seeds, studies, shift=shift)
    shown = (verdicts_of(low, high, min_effect=0.01)[:, 0] == "shown").mean()
    joint = (verdicts_of(low, high, min_effect=0.01, joint_directions=True)[:, 0] == "shown").mean()
    print(f"\n(c) one effect of 0.01 among {len(claims)} claims, sds {low_sd:.4f}/{high_sd:.4f}: {seeds} seeds a "
          f"side planned at alpha/{len(claims)} (promised {promised:.1%}), shown after Holm in {shown:.1%} "
          f"({joint:.1%} with joint_directions)")
    assert shown >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / studies)


def test_moderated_spread_is_smyths_squeeze():
    """Variances drawn from the prior Smyth's method assumes (scaled inverse chi-square, d0 = 8):
    the fit finds d0 near 8 and s0^2 near the truth; identical variances need no prior df."""
    rng = np.random.default_rng(51)
    true = 1e-4 * 8 / rng.chisquare(8, 4000)  # s0^2 = 1e-4, d0 = 8
    sample = true * rng.chisquare(2, 4000) / 2  # 3 seeds each: 2 df
    moderated, d0, s0_squared = moderated_spread(sample, 2)
    assert d0 == pytest.approx(8, rel=0.25) and s0_squared == pytest.approx(1e-4, rel=0.1)
    assert moderated[0] == pytest.approx((d0 * s0_squared + 2 * sample[0]) / (d0 + 2))
    flat, d0_flat, _ = moderated_spread(np.full(10, 2e-4), 2)
    # log s^2 is biased low by digamma(d/2) - log(d/2) for d df: the prior variance corrects it.
    assert d0_flat == math.inf and np.allclose(flat, 2e-4 * math.exp(-float(special.digamma(1.0))))
    with pytest.raises(ValueError, match="too few"):
        moderated_spread([1e-4, 0.0, 0.0], 2)


def smoke_spreads() -> np.ndarray:
    """The committed smoke baseline's seed spreads: the truth a calibration draws from (a variant
    at chance every seed has std 0; it is given 0.0005, the smallest seen elsewhere)."""
    import json
    from pathlib import Path

    baseline = json.loads((Path(__file__).parents[1] / "results" / "baseline.json").read_text())["smoke"]
    return np.array([max(entry["std"] or 0.0, 0.0005) for entry in baseline["variants"].values()])


@pytest.mark.parametrize("baseline_seeds, new_seeds", [(3, 1), (3, 3)])
def test_the_moderated_guard_fails_the_real_grid_within_its_budget(baseline_seeds, new_seeds):
    """(b) The guard as CI runs it: the smoke grid's real spreads (they differ 200-fold), a baseline
    of 3 seeds, 1 new seed per variant (make test) or 3. Unchanged code fails a grid run by chance
    within the 1% budget, half for the variants' bounds and half for the grid's shift; a drop of
    0.005 on every variant (a broken recipe) is caught by the shift, which no one bound sees."""
    rng = np.random.default_rng(52 + new_seeds)
    sds = smoke_spreads()
    grids = 10_000
    baseline = MEAN + sds[None, :, None] * rng.standard_normal((grids, len(sds), baseline_seeds))
    new = (MEAN + sds[None, :, None] * rng.standard_normal((grids, len(sds), new_seeds))).mean(axis=-1)
    alarms, shifts, caught, tolerances, dfs = 0, 0, 0, [], []
    false_alarm = per_variant_false_alarm(BUDGET / 2, len(sds))
    for g in range(grids):
        mean, sd = baseline[g].mean(axis=-1), baseline[g].std(axis=-1, ddof=1)
        spread, df = grid_spreads(sd, baseline_seeds)
        bounds = guard_bound(mean, spread, baseline_seeds, new_seeds, false_alarm=false_alarm, floor=0.015, df=df)
        alarms += bool((new[g] < bounds).any())
        # The shift on each variant's own spread and df: its t is exact, so Stouffer's z is too.
        shifts += grid_shift(new[g], new_seeds, mean, sd, baseline_seeds, baseline_seeds - 1)[1] <= BUDGET / 2
        caught += grid_shift(new[g] - 0.005, new_seeds, mean, sd, baseline_seeds, baseline_seeds - 1)[1] <= BUDGET / 2
        tolerances.append(np.median(mean - bounds))
        dfs.append(np.median(df))
    rate, shift_rate = alarms / grids, shifts / grids
    print(f"\n(b) moderated guard, the smoke grid's {len(sds)} real spreads, {baseline_seeds} baseline seeds, "
          f"{new_seeds} new, {grids} grid runs: a variant's bound fails {rate:.2%} (budget {BUDGET / 2:.1%}), the "
          f"grid's shift {shift_rate:.2%} (budget {BUDGET / 2:.1%}); median tolerance {np.median(tolerances):.3f}, "
          f"median df {np.median(dfs):.1f}; a 0.005 drop everywhere caught in {caught / grids:.1%}")
    margin = 3 * math.sqrt(BUDGET / 2 / grids)
    assert rate <= BUDGET / 2 + margin and shift_rate <= BUDGET / 2 + margin
    assert caught / grids >= 0.8
