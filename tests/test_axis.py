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


def test_an_own_config_subclass_is_a_base():
    @dataclasses.dataclass(frozen=True)
    class Wide(Config):
        width: float = 1.0

    axis = Axis("width", "?", variants=[v("1"), v("2", width=2.0)], base=Wide(epochs=1))
    assert axis.configs(axis.variant("2"), epochs=1, seeds=1)[0].width == 2.0


@pytest.mark.parametrize("make, fragment", [
    (lambda: Axis("a", "?", variants=[v("x"), v("x")]), "repeats variant id(s) x"),
    (lambda: Axis("a", "?", variants=[v("x")], effects=[Effect("test_accuracy", "x", "y", "c")]), "names variant 'y'"),
    (lambda: Axis("a", "?", variants=[v("x", no_such_field=1)]), "no_such_field"),
    (lambda: Axis("a", "?", variants=[]), "has no variants"),
    (lambda: Axis("a b", "?", variants=[v("x")]), "axis name 'a b' is invalid"),
    (lambda: Axis("a", "?", variants=[v("x")], base="no-such-preset"), "unknown preset 'no-such-preset'"),
])
def test_a_bad_axis_fails_when_declared(make, fragment):
    with pytest.raises((CnnError, TypeError), match=None) as raised:
        make()
    assert fragment in str(raised.value)


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
                effects=[Effect("accuracy_gap", "0.5", "0", "narrows")], sections=("speed",))
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
                for config in axis.configs(variant, PROFILES.get(profile).epochs, seeds=1).values():
                    check_feature_maps(config, (28, 28, 1))  # raises when a pool or kernel does not fit
