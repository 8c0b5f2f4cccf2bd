"""cnn.results.judge: the one judge of a folder's claims, its verdicts, its numbers and its reasons."""

import pandas as pd
import pytest
from scipy import stats as sps

from cnn.errors import CnnError
from cnn.results import stats
from cnn.results.judge import Claim, Effect, Side, judge_axes, judge_axis, judge_claims

EFFECT = Effect("accuracy_gap", "0.5", "0", "dropout narrows the gap", min_effect=0.005)


def judge(low, high, effect=EFFECT, low_std=None, high_std=None, baseline_n=None, family_size=None):
    claim = Claim("dropout", "cpu", effect, Side(effect.low, tuple(low), low_std, baseline_n),
                  Side(effect.high, tuple(high), high_std, baseline_n))
    [judged] = judge_claims([claim], family_size)
    return judged


def test_shown_gives_the_estimate_its_interval_the_adjusted_p_the_test_and_n():
    low, high = [0.010, 0.012, 0.011], [0.030, 0.032, 0.031]
    judged = judge(low, high)
    welch = sps.ttest_ind(high, low, equal_var=False, alternative="greater")
    assert judged.verdict == "shown" and judged.test == stats.WELCH and judged.family == 1
    assert judged.p_adj == pytest.approx(welch.pvalue) and judged.df == pytest.approx(welch.df)
    assert judged.estimate == pytest.approx(0.02)
    assert judged.text.startswith("shown: dropout narrows the gap: +0.0200 [+0.0177, +0.0223] 95% CI, p_adj ")
    assert "(Welch t, df 4.0), n 3 vs 3; accuracy gap 0: +0.0310 ± 0.0010 (n=3)" in judged.text


def test_overlapping_seeds_are_undetermined_with_the_seeds_they_would_need():
    judged = judge([0.010, 0.030, 0.020], [0.015, 0.035, 0.025])
    assert judged.verdict == "undetermined"
    assert judged.seeds_needed == stats.seeds_needed(0.01, 0.01, 0.005)
    assert judged.smallest_detectable == pytest.approx(stats.smallest_detectable(0.01, 3, 0.01, 3))
    assert f"needs {judged.seeds_needed} seeds a side" in judged.reason
    assert "the smallest change this run shows with 80% power is 0.0" in judged.reason


def test_the_opposite_is_contradicted_and_a_tiny_change_is_equivalent():
    assert judge([0.030, 0.032, 0.031], [0.010, 0.012, 0.011]).verdict == "contradicted"
    tight = [0.0200, 0.0201, 0.0199, 0.0200]
    equivalent = judge(tight, [x + 0.0001 for x in tight])
    assert equivalent.verdict == "equivalent" and equivalent.text.startswith("equivalent (within ±0.0050), so not")


def test_the_family_is_every_stochastic_claim_judged_together():
    """Holm over the claims: a p that alone would show is adjusted by the family's size."""
    low, high = [0.010, 0.012, 0.014], [0.016, 0.019, 0.020]  # one-sided p ~ 0.01
    alone = judge(low, high)
    claims = [Claim("dropout", "cpu", EFFECT, Side("0.5", tuple(low)), Side("0", tuple(high)))] + [
        Claim("dropout", "cpu", EFFECT, Side("0.5", (0.01, 0.02, 0.03)), Side("0", (0.01, 0.02, 0.03)))
    ] * 9
    in_family = judge_claims(claims)[0]
    assert alone.verdict == "shown" and in_family.verdict == "undetermined" and in_family.family == 10
    assert in_family.p_adj == pytest.approx(min(1.0, 10 * alone.p_adj))
    # One axis judged while the run goes on: Bonferroni over the run's size, never more than Holm shows.
    assert judge(low, high, family_size=10).p_adj == pytest.approx(in_family.p_adj)


def test_one_seed_is_not_judged_unless_the_baseline_knows_its_spread_and_df():
    judged = judge([0.01], [0.05])
    assert judged.verdict == "not judged"
    assert judged.reason == ("0.5 and 0 have one seed and the baseline records no spread for it, so the spread is "
                             "unknown")
    borrowed = judge([0.01], [0.05], low_std=0.002, high_std=0.002, baseline_n=3)
    assert borrowed.verdict == "shown" and borrowed.test == stats.BORROWED
    assert borrowed.df == pytest.approx(4.0)  # two spreads of 2 df each, equal: Satterthwaite gives 4
    # A borrowed spread is said to be the baseline's, never printed as if one seed had a std.
    assert "(n=1; the baseline's std 0.0020)" in borrowed.text and "±" not in borrowed.text


def test_log_scale_metrics_are_judged_as_ratios():
    effect = Effect("steady_epoch_s", low="512", high="16", claim="batch 16 is slower", min_effect=1.1)
    judged = judge([1.00, 1.02, 0.98], [2.0, 2.1, 1.9], effect=effect)
    assert judged.scale == "log" and judged.estimate == pytest.approx(2.0, rel=0.01)
    assert judged.text.startswith("shown: batch 16 is slower: 2.00x [1.79x, 2.23x] 95% CI, p_adj ")


def test_a_two_state_outcome_is_k_of_n_with_fishers_test():
    effect = Effect("learned", low="sigmoid", high="relu", claim="ReLU learns where sigmoid does not")
    judged = judge([0, 0, 0, 0, 0, 1], [1] * 6, effect=effect)
    assert judged.test == stats.FISHER and judged.verdict == "shown"
    assert judged.p_adj == pytest.approx(sps.fisher_exact([[6, 0], [1, 5]], alternative="greater").pvalue)
    assert "learned relu: 6 of 6 learned vs sigmoid: 1 of 6 learned" in judged.text
    few = judge([0, 1], [1, 1], effect=effect)
    assert few.verdict == "undetermined" and "k of n" in few.reason


def test_an_effect_without_min_effect_fails_at_the_axis_and_a_ratio_must_exceed_one():
    assert "needs min_effect=" in Effect("test_accuracy", "a", "b", "c").problem()
    assert "must be > 1" in Effect("steady_epoch_s", "a", "b", "c", min_effect=0.9).problem()
    assert Effect("params", "a", "b", "c").problem() is None  # exact: no margin
    assert Effect("learned", "a", "b", "c").problem() is None  # k of n: no margin
    from cnn.ablate import Axis, v

    with pytest.raises(CnnError, match="effect 'c' on test_accuracy needs min_effect="):
        Axis("x", "q", [v("a"), v("b", dropout=0.5)], [Effect("test_accuracy", "a", "b", "c")])


def runs(rows, axis="dropout"):
    return pd.DataFrame(
        [{"axis": axis, "device": "cpu", "variant": v, "seed": s, "accuracy_gap": x} for v, s, x in rows]
    )


def test_a_deselected_variant_is_named_as_the_reason_not_the_seed_count():
    # -k "dropout and 0.5" in the standard profile: 3 seeds of 0.5, none of 0.
    frame = runs([("0.5", 0, 0.01), ("0.5", 1, 0.012), ("0.5", 2, 0.011)])
    [judged] = judge_axis("dropout", [EFFECT], frame)
    assert judged.verdict == "not judged"
    assert judged.reason.startswith("0 has no accuracy gap on cpu in these results (deselected")
    assert "seed" not in judged.reason


def test_effects_csv_row_carries_the_same_text_and_every_number():
    frame = runs([("0.5", 0, 0.01), ("0", 0, 0.03)])
    spread = {("cpu", "dropout", v): {"accuracy_gap": (0.001, 3)} for v in ("0", "0.5")}
    [judged] = judge_axis("dropout", [EFFECT], frame, spread)
    row = judged.row()
    assert row["verdict"] == "shown" and row["text"] == judged.text and row["low"] == "0.5" and row["high"] == "0"
    for column in ("estimate", "ci_low", "ci_high", "p_adj", "test", "df", "n_low", "n_high", "min_effect"):
        assert row[column] is not None, column


def test_judge_axes_makes_one_family_of_every_axis():
    rows = [("0.5", s, 0.01 + 0.001 * s) for s in range(3)] + [("0", s, 0.02 + 0.001 * s) for s in range(3)]
    frame = pd.concat([runs(rows), runs(rows, axis="other")])
    records = [{"name": name, "effects": [EFFECT.to_dict()]} for name in ("dropout", "other")]
    judged = judge_axes(records, frame)
    assert [j.family for j in judged] == [2, 2] and judged[0].p_adj == pytest.approx(judged[1].p_adj)


def test_a_deterministic_metric_is_compared_exactly_with_one_seed():
    # params is the same for every seed: one seed each shows it, no spread is needed (the README's
    # own example: examples/own-model's width axis, width 2 has more weights than width 0.5).
    claim = Effect("params", low="0.5", high="2", claim="width 2 has more weights than width 0.5")
    shown = judge([1234.0], [5678.0], effect=claim)
    assert shown.verdict == "shown" and shown.family == 0
    assert shown.text == ("shown: width 2 has more weights than width 0.5: +4,444 (exact: the same for every seed); "
                          "params 2: 5,678 vs 0.5: 1,234")
    assert judge([5678.0], [1234.0], effect=claim).verdict == "contradicted"
    equal = judge([1234.0], [1234.0, 1234.0], effect=claim)
    assert equal.verdict == "equivalent" and equal.text.startswith("equivalent (equal (exact)), so not")


def test_null_studies_of_the_committed_design_claim_a_false_effect_in_at_most_5_percent():
    """End to end through the judge: the committed full study's 29 claims, 2 seeds a side, each
    variant drawn with its own observed spread (results/full/summary.csv) around one common mean
    per metric, so every claim is false. A false "shown" anywhere in a run happens in <= 5% of runs
    (and a false "shown" or "contradicted" in <= 10%: two families of one-sided tests)."""
    import json
    import math
    from pathlib import Path

    import numpy as np

    from cnn.results.metrics import metric

    folder = Path(__file__).parents[1] / "results" / "full"
    summary = pd.read_csv(folder / "summary.csv", dtype={"variant": str}).set_index(["axis", "variant"])
    effects = [(a["name"], Effect(**e)) for a in json.loads((folder / "axes.json").read_text()) for e in a["effects"]]
    # The claims the study has both sides of (a variant added since it ran has no spread to draw from).
    effects = [(a, e) for a, e in effects if (a, e.low) in summary.index and (a, e.high) in summary.index]
    rng = np.random.default_rng(61)
    studies, seeds = 600, 2  # ~20 s: a compare is a scipy test, 29 a run
    any_shown = any_wrong = 0
    for _ in range(studies):
        claims = []
        for axis, effect in effects:
            declared = metric(effect.metric)
            sides = []
            for variant in (effect.low, effect.high):
                if declared.scale == "binary":
                    values = rng.random(seeds) < 0.5
                elif declared.deterministic:
                    values = np.full(seeds, 1000.0)
                else:
                    mean = float(summary.loc[(axis, effect.low), f"{effect.metric}_mean"])
                    own = float(summary.loc[(axis, variant), f"{effect.metric}_mean"])
                    sd = max(float(summary.loc[(axis, variant), f"{effect.metric}_std"]), 1e-3 * abs(own))
                    if declared.scale == "log":  # the variant's own relative spread, on log10 values
                        values = mean * 10 ** (sd / (own * math.log(10)) * rng.standard_normal(seeds))
                    else:
                        values = mean + sd * rng.standard_normal(seeds)
                sides.append(Side(variant, tuple(float(x) for x in values)))
            claims.append(Claim(axis, "cpu", effect, *sides))
        verdicts = [j.verdict for j in judge_claims(claims, plan=False)]
        any_shown += "shown" in verdicts
        any_wrong += "shown" in verdicts or "contradicted" in verdicts
    rate, both = any_shown / studies, any_wrong / studies
    print(f"\n(a) the full study's {len(effects)} claims, all false, 2 seeds a side, {studies} runs: a false "
          f"'shown' in {rate:.2%} of runs, a false 'shown' or 'contradicted' in {both:.2%}")
    margin = 3 * math.sqrt(0.05 * 0.95 / studies)
    assert rate <= 0.05 + margin and both <= 0.10 + margin


def test_a_time_claim_leaves_out_contended_runs_and_rests_on_none():
    effect = Effect("steady_epoch_s", low="512", high="16", claim="batch 16 is slower", min_effect=1.1)
    rows = [{"axis": "b", "device": "cpu", "variant": v, "seed": s, "steady_epoch_s": t, "contended": c}
            for v, s, t, c in [("512", 0, 1.0, False), ("512", 1, 1.1, False), ("512", 2, 3.0, True),
                               ("16", 0, 2.0, False), ("16", 1, 2.1, False), ("16", 2, 2.2, False)]]
    [judged] = judge_axis("b", [effect], pd.DataFrame(rows))
    assert judged.n_low == 2 and judged.n_high == 3 and "1 contended left out" in judged.text
    shared = pd.DataFrame([{**r, "contended": r["variant"] == "512" or r["contended"]} for r in rows])
    [unjudged] = judge_axis("b", [effect], shared)
    assert unjudged.verdict == "not judged"
    assert unjudged.reason.startswith("all 3 runs of 512 were timed while other work shared the cores")
    # An accuracy claim keeps every run: contention changes the time, not what was learned.
    accuracy = Effect("test_accuracy", low="512", high="16", claim="c", min_effect=0.01)
    frame = shared.assign(test_accuracy=[0.9, 0.91, 0.92, 0.95, 0.96, 0.955])
    assert judge_axis("b", [accuracy], frame)[0].n_low == 3


def test_a_time_claim_compares_times_taken_on_one_cpu_model():
    """A study resumed on another machine mixes CPUs in one axis: the claim rests on the model with
    the most clean runs on both sides, and says how many runs on the other it left out."""
    effect = Effect("steady_epoch_s", low="max2", high="none", claim="no pooling is slower", min_effect=1.1)
    intel, amd = "Intel(R) Xeon(R) Processor", "AMD EPYC"
    rows = [{"axis": "p", "device": "cpu", "variant": v, "seed": s, "steady_epoch_s": t, "contended": False,
             "cpu_model": cpu}
            for v, s, t, cpu in [("max2", 0, 1.0, intel), ("max2", 1, 2.0, amd), ("max2", 2, 2.1, amd),
                                 ("max2", 3, 2.2, amd), ("none", 0, 8.0, intel), ("none", 1, 8.2, intel),
                                 ("none", 2, 6.0, amd), ("none", 3, 6.3, amd)]]
    [judged] = judge_axis("p", [effect], pd.DataFrame(rows))
    assert (judged.n_low, judged.n_high) == (3, 2)  # AMD: 3 and 2 beat Intel's 1 and 2
    assert "1 on another CPU than AMD EPYC left out" in judged.text and "2 on another CPU" in judged.text
    assert judged.estimate == pytest.approx(6.15 / 2.1, rel=0.01)
    # One side timed only on one machine, the other only on another: nothing to compare.
    split = pd.DataFrame([{**r, "cpu_model": intel if r["variant"] == "none" else amd} for r in rows])
    [unjudged] = judge_axis("p", [effect], split)
    assert unjudged.verdict == "not judged" and "timed on another CPU than" in unjudged.reason
    # One model everywhere: the text says nothing of CPUs.
    [same] = judge_axis("p", [effect], pd.DataFrame([{**r, "cpu_model": amd} for r in rows]))
    assert "CPU" not in same.text and (same.n_low, same.n_high) == (4, 4)
