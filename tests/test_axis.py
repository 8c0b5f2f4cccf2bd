"""cnn.ablate.axis: the public API an axis file declares itself with."""

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from cnn.ablate import PROFILES, Axis, Effect, v
from cnn.config import Config, preset
from cnn.errors import CnnError
from cnn.models import check_feature_maps

ABLATIONS = Path(__file__).resolve().parents[1] / "ablations"


def builtin_axes() -> list[Axis]:
    """Every AXIS declared in ablations/test_*.py (the one place an axis is declared)."""
    axes = []
    for path in sorted(ABLATIONS.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_axis_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        axes.append(module.AXIS)
    return axes


def test_variants_change_the_base_at_the_profile_epochs():
    axis = Axis("dropout", "?", variants=[v("0"), v("0.5", dropout=0.5)])
    configs = axis.configs(axis.variant("0.5"), epochs=2, seeds=2)
    assert configs == {s: dataclasses.replace(preset("seed-cnn"), epochs=2, dropout=0.5, seed=s) for s in (0, 1)}


def test_base_changes_win_over_the_profile_and_an_own_base_keeps_the_epochs():
    axis = Axis("speed", "?", variants=[v("naive"), v("fast", base="fast-cnn")], base_changes={"epochs": 6})
    assert axis.configs(axis.variant("naive"), epochs=2, seeds=1)[0].epochs == 6
    assert axis.configs(axis.variant("fast"), epochs=2, seeds=1)[0] == dataclasses.replace(preset("fast-cnn"), epochs=6)


FAST = {"precision": "mixed_bfloat16", "batch_size": 512, "lr_scaling": "sqrt"}


def test_a_profile_recipe_is_every_base_s_and_a_variant_s_own_changes_win():
    axis = Axis("batch", "?", variants=[v("32"), v("16", batch_size=16), v("mlp", base="seed-mlp")])
    [plain] = axis.configs(axis.variant("32"), epochs=2, seeds=1, recipe=FAST).values()
    assert plain == dataclasses.replace(preset("seed-cnn"), epochs=2, **FAST)
    assert axis.configs(axis.variant("16"), epochs=2, seeds=1, recipe=FAST)[0].batch_size == 16
    # a variant's own base takes the recipe too
    assert axis.configs(axis.variant("mlp"), epochs=2, seeds=1, recipe=FAST)[0] == dataclasses.replace(
        preset("seed-mlp"), epochs=2, **FAST)


def test_axis_base_changes_win_over_the_recipe_and_an_axis_can_keep_its_own_recipe():
    batch = Axis("batch", "?", variants=[v("32")], base_changes={"batch_size": 32, "lr_scaling": "none"})
    config = batch.configs(batch.variant("32"), epochs=2, seeds=1, recipe=FAST)[0]
    assert (config.batch_size, config.lr_scaling, config.precision) == (32, "none", "mixed_bfloat16")
    speed = Axis("speed", "?", variants=[v("naive")], profile_recipe=False)
    assert speed.configs(speed.variant("naive"), epochs=2, seeds=1, recipe=FAST)[0] == dataclasses.replace(
        preset("seed-cnn"), epochs=2)


def test_effect_seeds_go_to_the_variants_an_effect_compares_only():
    axis = Axis("dropout", "?", variants=[v("0"), v("0.2", dropout=0.2), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", low="0.5", high="0", claim="dropout narrows", min_effect=0.005)])
    counts = {i: len(axis.configs(axis.variant(i), epochs=1, seeds=2, effect_seeds=3)) for i in axis.ids}
    assert counts == {"0": 3, "0.2": 2, "0.5": 3}
    assert len(axis.configs(axis.variant("0"), epochs=1, seeds=4, effect_seeds=3)) == 4  # never fewer than seeds


def test_the_full_profile_trains_every_axis_on_the_fast_path_and_speed_on_the_notebook_s():
    full = PROFILES.get("full")
    axes = {axis.name: axis for axis in builtin_axes()}
    dropout = axes["dropout"].configs(axes["dropout"].variant("0.5"), full.epochs, full.seeds, full.recipe)
    assert len(dropout) >= 2 and all(c.batch_size == 512 and c.fused_update for c in dropout.values())
    naive = axes["speed"].configs(axes["speed"].variant("naive"), full.epochs, full.seeds, full.recipe)[0]
    assert (naive.batch_size, naive.precision, naive.pipeline, naive.fused_update) == (32, "float32", "numpy", False)
    assert full.target_accuracy == 0.90


def test_an_own_config_subclass_is_a_base():
    @dataclasses.dataclass(frozen=True)
    class Wide(Config):
        width: float = 1.0

    axis = Axis("width", "?", variants=[v("1"), v("2", width=2.0)], base=Wide(epochs=1))
    assert axis.configs(axis.variant("2"), epochs=1, seeds=1)[0].width == 2.0


@pytest.mark.parametrize("make, fragment", [
    (lambda: Axis("a", "?", variants=[v("x"), v("x")]), "repeats variant id(s) x"),
    (lambda: Axis("a", "?", [v("x")], effects=[Effect("test_accuracy", "x", "y", "c", 0.01)]), "names variant 'y'"),
    (lambda: Axis("a", "?", variants=[v("x", no_such_field=1)]), "no_such_field"),
    (lambda: Axis("a", "?", variants=[]), "has no variants"),
    (lambda: Axis("a b", "?", variants=[v("x")]), "axis name 'a b' is invalid"),
    (lambda: Axis("a", "?", variants=[v("x")], base="no-such-preset"), "unknown preset 'no-such-preset'"),
])
def test_a_bad_axis_fails_when_declared(make, fragment):
    with pytest.raises(CnnError) as raised:
        make()
    assert fragment in str(raised.value)


def test_a_field_typo_names_the_axis_the_variant_and_the_field_meant():
    # dataclasses.replace's own TypeError named neither the axis nor the variant.
    @dataclasses.dataclass(frozen=True)
    class Own(Config):
        filters: int = 2

    with pytest.raises(CnnError) as raised:
        Axis("filters", "?", variants=[v("2"), v("4", filtres=4)], base=Own())
    assert str(raised.value) == "axis filters, variant '4': Own has no field 'filtres'; did you mean 'filters'?"
    with pytest.raises(CnnError, match=r"Config has no field 'dropuot'; did you mean 'dropout'\?"):
        Axis("a", "?", variants=[v("x", dropuot=0.5)])
    with pytest.raises(CnnError, match=r"axis a: base_changes: Config has no field 'epoch'; did you mean 'epochs'\?"):
        Axis("a", "?", variants=[v("x")], base_changes={"epoch": 2})


def test_two_different_axes_of_one_name_fail_loudly():
    Axis("twice", "?", variants=[v("x")]).tests()
    Axis("twice", "?", variants=[v("x")]).tests()  # the same declaration again (a module imported twice): fine
    with pytest.raises(CnnError, match="axis 'twice' is already registered"):
        Axis("twice", "?", variants=[v("y")]).tests()


def test_tests_are_named_after_the_axis_and_parametrized_by_variant_id():
    test_variant, test_effects = Axis("named", "Why?", variants=[v("a"), v("b")]).tests()
    assert test_variant.__name__ == "test_named" and test_effects.__name__ == "test_named_effects"
    [mark] = test_variant.pytestmark
    assert mark.args == ("variant", ["a", "b"])


def test_the_record_keeps_question_order_and_effects():
    axis = Axis("dropout", "Does   dropout\n help?", variants=[v("0"), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", "0.5", "0", "narrows", 0.005)], sections=("speed",))
    record = axis.record()
    assert record["question"] == "Does dropout help?" and [x["id"] for x in record["variants"]] == ["0", "0.5"]
    assert record["variants"][1]["changes"] == {"dropout": 0.5} and record["effects"][0]["claim"] == "narrows"


def test_every_builtin_axis_is_valid_for_every_profile():
    axes = builtin_axes()
    assert {a.name for a in axes} >= {"activation", "dropout", "pooling", "dense", "epochs", "data", "optimizer",
                                       "initializer", "family", "speed"}
    for profile in PROFILES:
        for axis in axes:
            for variant in axis.variants:
                recipe = PROFILES.get(profile).recipe
                for config in axis.configs(variant, PROFILES.get(profile).epochs, seeds=1, recipe=recipe).values():
                    check_feature_maps(config, (28, 28, 1))  # raises when a pool or kernel does not fit


def test_an_effect_on_an_unknown_metric_fails_when_the_axis_is_declared():
    with pytest.raises(CnnError, match="effect 'better' names metric 'tset_accuracy'; known: test_accuracy, "):
        Axis("typo", "Why?", variants=[v("a"), v("b")],
             effects=[Effect("tset_accuracy", low="a", high="b", claim="better")])


def test_a_step_budget_scales_the_epochs_by_the_share_of_the_data():
    from cnn.ablate import Regime  # noqa: F401  (public)

    axis = Axis("data", "?", variants=[v("10%", train_fraction=0.1), v("10%-steps", train_fraction=0.1, budget="steps"),
                                       v("100%")])
    epochs = {i: axis.configs(axis.variant(i), epochs=2, seeds=1)[0].epochs for i in axis.ids}
    assert epochs == {"10%": 2, "10%-steps": 20, "100%": 2}
    assert axis.record()["variants"][1]["budget"] == "steps"
    with pytest.raises(CnnError, match="budget 'step' is not one of epochs, steps"):
        Axis("d", "?", variants=[v("x", budget="step")])


def test_a_regime_is_validated_and_recorded():
    from cnn.ablate import Regime

    axis = Axis("dropout", "?", variants=[v("0"), v("0.5", dropout=0.5)],
                regimes={"pilot": Regime(epochs=20, seeds=3, recipe={"batch_size": 64}, why="overfits")})
    assert axis.regime("pilot").epochs == 20 and axis.regime("smoke") is None
    assert axis.record()["regimes"] == {"pilot": {"epochs": 20, "seeds": 3, "recipe": {"batch_size": 64},
                                                  "why": "overfits", "effect_seeds": None}}
    with pytest.raises(CnnError, match=r"regimes\['pilot'\].epochs 0 is not an integer >= 1"):
        Axis("d", "?", variants=[v("x")], regimes={"pilot": Regime(epochs=0)})
    with pytest.raises(CnnError, match=r"regimes\['pilot'\].recipe: Config has no field 'batch'"):
        Axis("d", "?", variants=[v("x")], regimes={"pilot": Regime(recipe={"batch": 64})})


def test_a_prefix_variant_is_validated_and_shares_its_source_s_seeds():
    axis = Axis("epochs", "?", variants=[v("1", epochs=1, prefix_of="3"), v("3", epochs=3), v("5", epochs=5)],
                effects=[Effect("test_accuracy", low="1", high="5", claim="c", min_effect=0.01)])
    assert [p.id for p in axis.prefixes(axis.variant("3"))] == ["1"]
    assert axis.record()["variants"][0]["prefix_of"] == "3"
    # "1" is an effect's side, so its source trains the effect's seeds, and "1" reads them all
    assert len(axis.configs(axis.variant("3"), 1, seeds=2, effect_seeds=4)) == 4
    assert len(axis.configs(axis.variant("1"), 1, seeds=2, effect_seeds=4)) == 4
    assert axis.configs(axis.variant("1"), 1, seeds=1)[0].epochs == 1


@pytest.mark.parametrize("variants, fragment", [
    ([v("1", epochs=1, prefix_of="9")], "prefix_of '9' is not one of its variants"),
    ([v("1", epochs=1, prefix_of="3"), v("3", epochs=3, dropout=0.5)], "differ in dropout, not only in epochs"),
    ([v("5", epochs=5, prefix_of="3"), v("3", epochs=3)], "this one fewer (5 vs 3)"),
    ([v("1", epochs=1, prefix_of="2"), v("2", epochs=2, prefix_of="3"), v("3", epochs=3)], "itself read from"),
    ([v("1", epochs=1, prefix_of="3", budget="steps"), v("3", epochs=3)], "step budget"),
])
def test_a_prefix_that_is_not_the_first_epochs_of_its_source_fails_when_declared(variants, fragment):
    with pytest.raises(CnnError) as raised:
        Axis("e", "?", variants=variants)
    assert fragment in str(raised.value)
    with pytest.raises(CnnError, match="measure the trained model only"):
        Axis("e", "?", variants=[v("1", epochs=1, prefix_of="3"), v("3", epochs=3)], accuracy_checks=2)


def test_a_regime_s_effect_seeds_go_to_the_variants_its_claims_compare_and_seeds_given_win():
    import types

    from cnn.ablate import Regime
    from cnn.ablate.runner import Runner

    axis = Axis("dropout", "?", variants=[v("0"), v("0.2", dropout=0.2), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", low="0.5", high="0", claim="c", min_effect=0.005)],
                regimes={"study": Regime(epochs=20, seeds=3, effect_seeds=8)})

    def counts(seeds_given: bool) -> dict:
        profile = types.SimpleNamespace(name="study", epochs=2, recipe={})
        options = types.SimpleNamespace(profile=profile, seeds=2, effect_seeds=0, seeds_given=seeds_given)
        runner = Runner(options, None, None, None, {}, None)
        return {i: len(runner.configs(axis, axis.variant(i))) for i in axis.ids}

    assert counts(False) == {"0": 8, "0.2": 3, "0.5": 8}
    assert counts(True) == {"0": 2, "0.2": 2, "0.5": 2}  # --ablation-seeds 2: every variant, every claim


@pytest.mark.parametrize("variant, fragment", [
    (v("a", choose={"learning_rate": (0.1,)}), "two or more distinct candidates"),
    (v("a", choose={"learning_rate": (0.1, 0.1)}), "two or more distinct candidates"),
    (v("a", learning_rate=0.1, choose={"learning_rate": (0.1, 0.2)}), "also set to 0.1; set it or choose it"),
    (v("a", choose={"learning_rate": (0.1, 0.2), "dropout": (0, 0.5)}), "names 2 fields"),
    (v("a", choose={"learning_rat": (0.1, 0.2)}), "no field 'learning_rat'; did you mean 'learning_rate'?"),
    (v("a", choose={"learning_rate": (0.1, -1.0)}), "learning_rate"),
])
def test_a_bad_choice_fails_when_declared(variant, fragment):
    with pytest.raises(CnnError) as raised:
        Axis("o", "?", variants=[variant])
    assert fragment in str(raised.value)


def test_a_choice_is_recorded():
    axis = Axis("o", "?", variants=[v("sgd", optimizer="sgd", choose={"learning_rate": [0.003, 0.01]})])
    assert axis.variant("sgd").choose == {"learning_rate": (0.003, 0.01)}
    assert axis.record()["variants"][0]["choose"] == {"learning_rate": [0.003, 0.01]}
