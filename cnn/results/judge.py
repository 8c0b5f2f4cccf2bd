"""The one judge of an axis' effects, used by the session (the effects test, effects.csv) and read
by the report: one rule, one wording, the true reason when nothing is claimed.

An effect ("dropout 0.5 narrows the gap": gap[0] > gap[0.5]) is shown where the difference of the
two variants' means is beyond EFFECT_FACTOR standard errors of that difference over seeds,
contradicted where it is beyond that the other way, and otherwise "no clear effect". A side with
one seed borrows its spread from the baseline where the baseline recorded one; without any spread,
or without results for a side, nothing is judged and the reason says which side and why. A
deterministic metric (params, FLOPs: the same for every seed) has no spread: it is compared
exactly, so one seed shows it.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass

import pandas as pd

from cnn.results.format import fmt, label
from cnn.results.metrics import known_metrics

EFFECT_FACTOR = 2.0  # claimed when the means differ by 2 standard errors of the difference (~5% two-sided)
VERDICTS = ("shown", "no clear effect", "no effect", "contradicted", "not judged")  # "no effect": exactly equal


@dataclass(frozen=True)
class Effect:
    """A claim the report makes only where the seeds show it beyond their spread: `high` has the
    larger `metric` (a runs.csv column) than `low`."""

    metric: str
    low: str
    high: str
    claim: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Side:
    """One variant's values of the effect's metric, one per seed."""

    variant: str
    values: tuple[float, ...]
    baseline_std: float | None = None  # the baseline's seed spread, used only when this side has one seed

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float | None:
        """The spread the judgement uses: over this run's seeds, else the baseline's, else None."""
        return statistics.stdev(self.values) if self.n > 1 else self.baseline_std

    def text(self, metric: str) -> str:
        if self.n > 1:
            return f"{fmt(metric, self.mean)} ± {fmt(metric, self.std, sign=False)} (n={self.n})"
        if self.baseline_std is not None:
            return (
                f"{fmt(metric, self.mean)} (n=1; the baseline's seed std {fmt(metric, self.baseline_std, sign=False)})"
            )
        return f"{fmt(metric, self.mean)} (n=1)"


@dataclass(frozen=True)
class Judgement:
    axis: str
    device: str
    metric: str
    low_variant: str
    high_variant: str
    claim: str
    verdict: str  # one of VERDICTS
    reason: str  # why nothing was claimed ('' when shown or contradicted)
    numbers: str  # both sides with mean, spread and n

    @property
    def text(self) -> str:
        """One line, the same in the terminal, effects.csv and the report."""
        if self.verdict == "shown":
            return f"shown: {self.claim}: {self.numbers}"
        if self.verdict == "no effect":
            return f"no effect: equal, so not \"{self.claim}\": {self.numbers}"
        if self.verdict == "contradicted":
            return f"contradicted: the seeds show the opposite of \"{self.claim}\": {self.numbers}"
        tail = f": {self.numbers}" if self.numbers else ""
        return f"{self.verdict} ({self.reason}): \"{self.claim}\"{tail}"

    def row(self) -> dict:
        return {"axis": self.axis, "device": self.device, "metric": self.metric, "low": self.low_variant,
                "high": self.high_variant, "claim": self.claim, "verdict": self.verdict, "reason": self.reason,
                "text": self.text}


def judge(axis: str, device: str, effect, low: Side | None, high: Side | None) -> Judgement:
    """Whether the seeds show `effect` (high > low on its metric) beyond their spread."""
    base = dict(axis=axis, device=device, metric=effect.metric, low_variant=effect.low, high_variant=effect.high,
                claim=effect.claim)
    missing = [variant for variant, side in ((effect.low, low), (effect.high, high)) if side is None or not side.n]
    if missing:
        names = " and ".join(missing)
        return Judgement(**base, verdict="not judged", numbers="",
                         reason=f"{names} {'has' if len(missing) == 1 else 'have'} no {_name(effect.metric)} "
                                f"on {device} in these results (deselected, failed or not run yet)")
    if _deterministic(effect.metric):  # the same for every seed: exact, no spread to weigh
        numbers = f"{_name(effect.metric)} {effect.high}: {fmt(effect.metric, high.mean)} vs {effect.low}: " \
                  f"{fmt(effect.metric, low.mean)} (exact: the same for every seed)"
        verdict = "shown" if high.mean > low.mean else "contradicted" if high.mean < low.mean else "no effect"
        return Judgement(**base, verdict=verdict, reason="equal" if verdict == "no effect" else "", numbers=numbers)
    numbers = (
        f"{_name(effect.metric)} {effect.high}: {high.text(effect.metric)} vs {effect.low}: {low.text(effect.metric)}"
    )
    unknown = [side.variant for side in (low, high) if side.std is None]
    if unknown:
        return Judgement(**base, verdict="no clear effect", numbers=numbers,
                         reason=f"{' and '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} one seed and the "
                                "baseline records no spread for it, so the spread is unknown")
    error = math.sqrt(low.std**2 / low.n + high.std**2 / high.n)
    difference = high.mean - low.mean
    if difference > EFFECT_FACTOR * error:
        return Judgement(**base, verdict="shown", reason="", numbers=numbers)
    if difference < -EFFECT_FACTOR * error:
        return Judgement(**base, verdict="contradicted", reason="", numbers=numbers)
    return Judgement(**base, verdict="no clear effect", numbers=numbers,
                     reason=f"the difference {fmt(effect.metric, difference)} is within {EFFECT_FACTOR:g} standard "
                            f"errors ({fmt(effect.metric, EFFECT_FACTOR * error, sign=False)})")


def judge_axis(axis: str, effects, runs: pd.DataFrame, spreads: dict | None = None) -> list[Judgement]:
    """Every effect of an axis, per device in `runs` (runs.csv rows of any axes). `spreads` maps
    (device, axis, variant) to {metric: the baseline's seed std}."""
    axis_runs = runs[runs["axis"] == axis] if not runs.empty else runs
    devices = list(dict.fromkeys(axis_runs["device"])) if not axis_runs.empty else ["cpu"]
    judged = []
    for device in devices:
        on_device = axis_runs[axis_runs["device"] == device] if not axis_runs.empty else axis_runs
        for effect in effects:
            sides = []
            for variant in (effect.low, effect.high):
                values = (
                    tuple(float(x) for x in on_device.loc[on_device["variant"] == variant, effect.metric].dropna())
                    if not on_device.empty
                    else ()
                )
                spread = (spreads or {}).get((device, axis, variant), {}).get(effect.metric)
                sides.append(Side(variant, values, spread) if values else None)
            judged.append(judge(axis, device, effect, *sides))
    return judged


def _deterministic(metric: str) -> bool:
    return any(m.name == metric and m.deterministic for m in known_metrics())


def _name(metric: str) -> str:
    """The metric's label; an unregistered one (a column of an older folder) as its words."""
    known = {m.name for m in known_metrics()}
    return label(metric) if metric in known else metric.replace("_per_", "/").replace("_", " ")
