"""The public API of the suite: an axis is declared in its own test file and nowhere else.

    from cnn.ablate import Axis, Effect, v

    AXIS = Axis("dropout", question=__doc__,
                variants=[v("0"), v("0.2", dropout=0.2), v("0.5", dropout=0.5)],
                effects=[Effect("accuracy_gap", low="0.5", high="0", claim="dropout narrows the gap",
                                min_effect=0.005)])
    test_dropout, test_dropout_effects = AXIS.tests()

A variant is its id (the pytest id) and the config fields it changes on the axis' base; the base
is a Config (any subclass: your own model's fields) or a preset name. The run records the axis
(question, variant order, effects) beside its results, so the report needs no grid module.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Callable

import pytest

from cnn.ablate.evaluations import EVALUATIONS
from cnn.config import Config, preset
from cnn.errors import CnnError
from cnn.registry import Registry
from cnn.report.sections import section_names
from cnn.results.judge import Effect
from cnn.results.metrics import METRICS

BUDGETS = ("epochs", "steps")  # what a variant holds equal to its base: the epochs, or the optimizer steps


@dataclass(frozen=True)
class Variant:
    """One point on an axis: its test id and the config fields it changes."""

    id: str
    changes: dict = field(default_factory=dict, hash=False)
    base: Config | str | None = None  # None: the axis' base; a preset name or Config: start from that instead
    learns: bool = True  # False where the finding is that it does not learn (zero initialisation)
    # "steps": as many optimizer steps as the base on the whole training set, its epochs scaled by
    # 1 / train_fraction (10% of the data trains 10x the epochs), so less data is not also less training.
    budget: str = "epochs"
    # The id of a longer variant on the axis that this one is the first epochs of (equal but for
    # `epochs`): read from that variant's run (cnn.ablate.prefix), not trained again.
    prefix_of: str | None = None
    # {field: candidates}: the field's value is chosen among these on the validation split before
    # the measured seeds train (cnn.ablate.choice), e.g. {"learning_rate": (0.0003, 0.001, 0.003)}.
    choose: dict = field(default_factory=dict, hash=False)


def v(id: str, *, base: Config | str | None = None, learns: bool = True, budget: str = "epochs",
      prefix_of: str | None = None, choose: dict | None = None, **changes) -> Variant:
    """A variant: `v("0.5", dropout=0.5)`; `budget="steps"` trains its base's optimizer steps;
    `prefix_of="10"`: the first epochs of variant 10's run, read from it (`v("3", epochs=3, prefix_of="10")`);
    `choose={"learning_rate": (1e-4, 1e-3, 1e-2)}`: that field chosen on the validation split."""
    return Variant(str(id), changes, base, learns, budget, None if prefix_of is None else str(prefix_of),
                   {name: tuple(values) for name, values in (choose or {}).items()})


@dataclass(frozen=True)
class Regime:
    """What an axis' question needs at one profile where that differs from the profile's size: the
    epochs every variant's base trains, the seeds per variant, config fields laid on the base (over
    the profile's recipe), and why, in one line (axes.json records it, the report states it)."""

    epochs: int | None = None
    seeds: int | None = None  # --ablation-seeds still sets every variant's count
    recipe: dict = field(default_factory=dict, hash=False)
    why: str = ""
    # Seeds for the variants an effect compares, where more than `seeds` (the seed planner's count
    # for its claims), so the variants no claim reads do not train them too.
    effect_seeds: int | None = None

    def record(self) -> dict:
        return {"epochs": self.epochs, "seeds": self.seeds, "recipe": {k: _plain(x) for k, x in self.recipe.items()},
                "why": self.why, "effect_seeds": self.effect_seeds}


def _check_fields(config: Config, changes: dict, where: str) -> None:
    """Raise CnnError naming `where`, the first field of `changes` that `config`'s class lacks and
    the field it probably meant (dataclasses.replace would raise a bare TypeError)."""
    known = [f.name for f in dataclasses.fields(config)]
    for name in changes:
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"known: {', '.join(known)}"
            raise CnnError(f"{where}: {type(config).__name__} has no field {name!r}; {hint}")


def _resolve(base: Config | str) -> Config:
    return preset(base) if isinstance(base, str) else base


@dataclass(frozen=True)
class Axis:
    """A question, the variants that answer it, and the effects expected among them."""

    name: str
    question: str
    variants: tuple[Variant, ...]
    effects: tuple[Effect, ...] = ()
    base: Config | str = "seed-cnn"  # the notebook's CNN; the profile sets its epochs
    base_changes: dict = field(default_factory=dict, hash=False)  # fields this axis changes on every variant's base
    accuracy_checks: int = 0  # > 0: also measure test accuracy that many times per epoch (time-to-accuracy)
    sections: tuple[str, ...] = ()  # report sections of this axis (cnn.report's SECTIONS registry), e.g. "speed"
    evaluations: tuple[str, ...] = ()  # run on each trained model (cnn.ablate.evaluations), e.g. "photos"
    profile_recipe: bool = (
        True  # False: the profile's recipe (Profile.recipe) is not applied; the axis compares recipes (speed)
    )
    reference: str | None = None  # the variant others are read against (the speed section's ratios); None: none
    regimes: dict = field(default_factory=dict, hash=False)  # profile name -> Regime: what the question needs there

    def __post_init__(self):
        object.__setattr__(self, "question", " ".join((self.question or "").split()))
        object.__setattr__(self, "variants", tuple(self.variants))
        object.__setattr__(self, "effects", tuple(self.effects))
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "evaluations", tuple(self.evaluations))
        object.__setattr__(self, "regimes", dict(self.regimes))
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise CnnError(f"axis name {self.name!r} is invalid: use letters, digits, - and _ (it names the test)")
        if not self.variants:
            raise CnnError(f"axis {self.name} has no variants; give at least one v(...)")
        ids = [variant.id for variant in self.variants]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise CnnError(f"axis {self.name} repeats variant id(s) {', '.join(repeated)}; each id must be unique")
        for effect in self.effects:
            if effect.metric not in METRICS:  # registered by the library or an evaluation (its own conftest)
                raise CnnError(f"axis {self.name}: effect {effect.claim!r} names metric {effect.metric!r}; "
                               f"known: {', '.join(METRICS.names())}")
            problem = effect.problem()
            if problem:
                raise CnnError(f"axis {self.name}: effect {effect.claim!r} on {effect.metric} {problem}")
            for side in (effect.low, effect.high):
                if side not in ids:
                    raise CnnError(
                        f"axis {self.name}: effect {effect.claim!r} names variant {side!r}; known: {', '.join(ids)}"
                    )
        for name in self.evaluations:  # an unknown evaluation too, listing the known ones
            EVALUATIONS.get(name)
        known_sections = section_names()
        for name in self.sections:
            if name not in known_sections:
                raise CnnError(f"axis {self.name}: unknown report section {name!r}; known: {', '.join(known_sections)}")
        for profile, regime in self.regimes.items():
            if not isinstance(regime, Regime):
                raise CnnError(f"axis {self.name}: regimes[{profile!r}] is a {type(regime).__name__}, not a Regime")
            counts = (("epochs", regime.epochs), ("seeds", regime.seeds), ("effect_seeds", regime.effect_seeds))
            for name, value in counts:
                if value is not None and not (isinstance(value, int) and value >= 1):
                    raise CnnError(f"axis {self.name}: regimes[{profile!r}].{name} {value!r} is not an integer >= 1")
            _check_fields(_resolve(self.base), regime.recipe, f"axis {self.name}: regimes[{profile!r}].recipe")
        for variant in self.variants:
            if variant.budget not in BUDGETS:
                raise CnnError(f"axis {self.name}, variant {variant.id!r}: budget {variant.budget!r} is not one of "
                               f"{', '.join(BUDGETS)}")
        for variant in self.variants:
            if variant.prefix_of is not None:
                self._check_prefix(variant)
            if variant.choose:
                self._check_choice(variant)
        if self.reference is not None and self.reference not in ids:
            raise CnnError(
                f"axis {self.name}: reference {self.reference!r} is not one of its variants; known: {', '.join(ids)}"
            )
        _resolve(self.base)  # an unknown preset fails here, when the test file is imported
        _check_fields(_resolve(self.base), self.base_changes, f"axis {self.name}: base_changes")
        for variant in self.variants:  # and so does a field a variant changes that the config lacks
            start = self.start(variant)
            _check_fields(start, variant.changes, f"axis {self.name}, variant {variant.id!r}")
            dataclasses.replace(start, **variant.changes)

    def _check_prefix(self, variant: Variant) -> None:
        """Raise CnnError where `variant` cannot be read from the run it names as prefix_of."""
        where = f"axis {self.name}, variant {variant.id!r}: prefix_of {variant.prefix_of!r}"
        if variant.prefix_of not in self.ids:
            raise CnnError(f"{where} is not one of its variants; known: {', '.join(self.ids)}")
        source = self.variant(variant.prefix_of)
        if source.prefix_of is not None or source.id == variant.id:
            raise CnnError(f"{where} is itself read from another run; name the variant that trains")
        if self.evaluations or self.accuracy_checks:
            raise CnnError(f"{where}: the axis' evaluations and accuracy checks measure the trained model only; "
                           "train its variants apart (no prefix_of)")
        if "steps" in (variant.budget, source.budget):
            raise CnnError(f"{where}: a step budget rescales the epochs; train it apart (no prefix_of)")
        mine = dataclasses.replace(self.start(variant), **variant.changes)
        theirs = dataclasses.replace(self.start(source), **source.changes)
        if "epochs" not in variant.changes or "epochs" not in source.changes or mine.epochs >= theirs.epochs:
            raise CnnError(f"{where}: both must set epochs, this one fewer ({mine.epochs} vs {theirs.epochs})")
        if dataclasses.replace(mine, epochs=theirs.epochs) != theirs:
            differing = [f.name for f in dataclasses.fields(mine)
                         if f.name != "epochs" and getattr(mine, f.name) != getattr(theirs, f.name)]
            raise CnnError(f"{where}: the two differ in {', '.join(differing)}, not only in epochs")

    def _check_choice(self, variant: Variant) -> None:
        """Raise CnnError where `variant`'s choose is not one field with two or more candidates."""
        where = f"axis {self.name}, variant {variant.id!r}: choose"
        if len(variant.choose) != 1:
            raise CnnError(f"{where} names {len(variant.choose)} fields; choose one (each more multiplies the runs)")
        [(name, candidates)] = variant.choose.items()
        _check_fields(self.start(variant), {name: None}, where)
        if name in variant.changes:
            raise CnnError(f"{where}: {name} is also set to {variant.changes[name]!r}; set it or choose it")
        if len(set(candidates)) < 2 or len(set(candidates)) != len(candidates):
            raise CnnError(f"{where}: {name} needs two or more distinct candidates, not {list(candidates)}")
        if variant.prefix_of is not None or self.prefixes(variant):
            raise CnnError(f"{where}: a variant read from another's run (prefix_of) cannot choose, nor be read from")
        start = dataclasses.replace(self.start(variant), **variant.changes)
        for value in candidates:  # a bad candidate fails here, when the test file is imported
            dataclasses.replace(start, **{name: value})

    def prefixes(self, variant: Variant) -> list[Variant]:
        """The variants read from `variant`'s run (prefix_of it)."""
        return [other for other in self.variants if other.prefix_of == variant.id]

    @property
    def ids(self) -> list[str]:
        return [variant.id for variant in self.variants]

    def variant(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise CnnError(f"axis {self.name} has no variant {variant_id!r}; known: {', '.join(self.ids)}")

    def start(self, variant: Variant, epochs: int | None = None, recipe: dict | None = None) -> Config:
        """The config a variant's changes apply to: the axis' base with the profile's recipe and
        then the axis' base changes, or the variant's own base with the recipe (then only the epochs
        carry over). `recipe` is ignored where the axis keeps its own (profile_recipe=False)."""
        recipe = recipe if recipe and self.profile_recipe else {}
        axis_base = dataclasses.replace(_resolve(self.base), **({"epochs": epochs} if epochs else {}), **recipe)
        axis_base = dataclasses.replace(axis_base, **self.base_changes)
        if variant.base is None:
            return axis_base
        return dataclasses.replace(_resolve(variant.base), epochs=axis_base.epochs, **recipe)

    @property
    def effect_variants(self) -> set[str]:
        """The ids an effect compares."""
        return {side for effect in self.effects for side in (effect.low, effect.high)}

    def configs(self, variant: Variant, epochs: int, seeds: int, recipe: dict | None = None,
                effect_seeds: int = 0) -> dict[int, Config]:
        """The variant's config for each seed, at the profile's epochs and recipe (the axis' base
        changes win); `effect_seeds` seeds instead where an effect compares the variant and that is
        more. A variant on a step budget trains its base's epochs x 1 / train_fraction."""
        start = self.start(variant, epochs, recipe)
        trained = self.variant(variant.prefix_of) if variant.prefix_of else variant
        together = {trained.id, *(other.id for other in self.prefixes(trained))}  # one run: one seed count
        count = max(seeds, effect_seeds) if together & self.effect_variants else seeds
        configs = {seed: dataclasses.replace(start, seed=seed, **variant.changes) for seed in range(count)}
        if variant.budget == "steps":
            configs = {seed: dataclasses.replace(c, epochs=max(1, round(start.epochs / c.train_fraction)))
                       for seed, c in configs.items()}
        return configs

    def regime(self, profile: str) -> Regime | None:
        """The regime this axis declares for `profile`, or None (the profile's own size)."""
        return self.regimes.get(profile)

    def record(self) -> dict:
        """What the results folder keeps of the axis (axes.json), for the report."""
        return {
            "name": self.name, "question": self.question, "sections": list(self.sections),
            "evaluations": list(self.evaluations), "reference": self.reference,
            # what every variant starts from, for the report's header: a preset's name or the config's class
            "base": self.base if isinstance(self.base, str) else type(self.base).__name__,
            "model": _resolve(self.base).model,
            "variants": [{"id": variant.id, "changes": {k: _plain(x) for k, x in variant.changes.items()},
                          "base": variant.base if isinstance(variant.base, str) else None, "learns": variant.learns,
                          "budget": variant.budget, "prefix_of": variant.prefix_of,
                          "choose": {k: list(x) for k, x in variant.choose.items()}}
                         for variant in self.variants],
            "regimes": {profile: regime.record() for profile, regime in self.regimes.items()},
            "effects": [effect.to_dict() for effect in self.effects],
        }

    def tests(self) -> tuple[Callable, Callable]:
        """The axis' two pytest tests: one per variant (`test_<axis>[<id>]`), and one judging its
        effects. Registers the axis: a second axis of the same name fails loudly."""
        if self.name not in AXES or AXES.get(self.name) != self:  # the same file imported twice is one axis
            AXES.add(self.name, self)
        axis = self

        @pytest.mark.parametrize("variant", self.ids)
        def test_variant(variant, run_variant):
            run_variant(axis, variant)

        def test_effects(judge_effects):
            judge_effects(axis)

        test_variant.__name__ = f"test_{self.name}"
        test_effects.__name__ = f"test_{self.name}_effects"
        test_variant.__doc__ = test_effects.__doc__ = self.question
        return test_variant, test_effects


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


AXES: Registry[Axis] = Registry("axis")  # the axes of this pytest session, in collection order
