"""cnn.ablate.effects: the one judge of an axis' effects, its verdicts and its reasons."""

import pandas as pd

from cnn.results.judge import Effect, Side, judge, judge_axis

EFFECT = Effect("accuracy_gap", "0.5", "0", "dropout narrows the gap")


def sides(low, high, low_std=None, high_std=None):
    return Side("0.5", tuple(low), low_std), Side("0", tuple(high), high_std)


def test_effect_shown_beyond_the_spread():
    judged = judge("dropout", "cpu", EFFECT, *sides([0.010, 0.012, 0.011], [0.030, 0.032, 0.031]))
    assert judged.verdict == "shown" and "+0.0310 ± 0.0010 (n=3)" in judged.text
    assert judged.text.startswith("shown: dropout narrows the gap: accuracy gap 0: ")


def test_overlapping_seeds_give_no_clear_effect_and_say_by_how_much():
    judged = judge("dropout", "cpu", EFFECT, *sides([0.010, 0.030, 0.020], [0.015, 0.035, 0.025]))
    assert judged.verdict == "no clear effect" and "within 2 standard errors" in judged.reason


def test_the_opposite_beyond_the_spread_is_contradicted():
    judged = judge("dropout", "cpu", EFFECT, *sides([0.030, 0.032, 0.031], [0.010, 0.012, 0.011]))
    assert judged.verdict == "contradicted"


def test_one_seed_claims_nothing_unless_the_baseline_knows_its_spread():
    judged = judge("dropout", "cpu", EFFECT, *sides([0.01], [0.05]))
    assert judged.verdict == "no clear effect"
    assert (
        judged.reason == "0.5 and 0 have one seed and the baseline records no spread for it, so the spread is unknown"
    )
    with_baseline = judge("dropout", "cpu", EFFECT, *sides([0.01], [0.05], 0.002, 0.002))
    assert with_baseline.verdict == "shown"
    # A borrowed spread is said to be the baseline's, never printed as if one seed had a std.
    assert "(n=1; the baseline's seed std 0.0020)" in with_baseline.text and "±" not in with_baseline.text


def runs(rows):
    return pd.DataFrame(
        [{"axis": "dropout", "device": "cpu", "variant": v, "seed": s, "accuracy_gap": x} for v, s, x in rows]
    )


def test_a_deselected_variant_is_named_as_the_reason_not_the_seed_count():
    # -k "dropout and 0.5" in the standard profile: 3 seeds of 0.5, none of 0.
    frame = runs([("0.5", 0, 0.01), ("0.5", 1, 0.012), ("0.5", 2, 0.011)])
    [judged] = judge_axis("dropout", [EFFECT], frame)
    assert judged.verdict == "not judged"
    assert judged.reason.startswith("0 has no accuracy gap on cpu in these results (deselected")
    assert "seed" not in judged.reason


def test_effects_csv_row_carries_the_same_text():
    frame = runs([("0.5", 0, 0.01), ("0", 0, 0.03)])
    [judged] = judge_axis("dropout", [EFFECT], frame, {("cpu", "dropout", "0"): {"accuracy_gap": 0.001},
                                                      ("cpu", "dropout", "0.5"): {"accuracy_gap": 0.001}})
    row = judged.row()
    assert row["verdict"] == "shown" and row["text"] == judged.text and row["low"] == "0.5" and row["high"] == "0"


def test_a_deterministic_metric_is_compared_exactly_with_one_seed():
    # params is the same for every seed: one seed each shows it, no spread is needed (the README's
    # own example: examples/own-model's width axis, width 2 has more weights than width 0.5).
    claim = Effect("params", low="0.5", high="2", claim="width 2 has more weights than width 0.5")
    shown = judge("width", "cpu", claim, Side("0.5", (1234.0,)), Side("2", (5678.0,)))
    assert shown.verdict == "shown"
    assert shown.text == ("shown: width 2 has more weights than width 0.5: params 2: 5,678 vs 0.5: 1,234 "
                          "(exact: the same for every seed)")
    assert judge("width", "cpu", claim, Side("0.5", (5678.0,)), Side("2", (1234.0,))).verdict == "contradicted"
    equal = judge("width", "cpu", claim, Side("0.5", (1234.0,)), Side("2", (1234.0, 1234.0)))
    assert equal.verdict == "no effect" and equal.text.startswith("no effect: equal")
