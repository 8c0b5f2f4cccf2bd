"""The one judge of a results folder's claims, used by the session (the effects tests, the terminal
lines, effects.csv) and by the report: one rule, one wording, the true reason when nothing is claimed.

A claim (an axis' Effect: "dropout 0.5 narrows the gap": gap[0] > gap[0.5]) is judged by the test
its metric calls for (cnn.results.stats: Welch's t; on log10 values for a log-scale metric; exact
for a deterministic one; Fisher's exact test on k of n seeds for a two-state one), and the verdict
is taken over the family of every stochastic claim judged together, with Holm's correction, so that
a run of claims that are all false reports a false "shown" in at most 5% of runs:

- shown: the one-sided adjusted p <= 0.05 and the estimate is beyond no change;
- contradicted: the same the other way (the effects test fails);
- equivalent: the two one-sided tests put the change within +/- the effect's min_effect;
- undetermined: none of those, with the interval, the smallest change the run could show with 80%
  power, and the seeds a side that min_effect would need;
- not judged: a side has no results, or one seed and no spread from the baseline, or (a time) only
  runs timed while other work shared the cores (the reason says).

A side with one seed borrows the baseline's seed spread for that variant (with the baseline's df).
A time claim leaves out the runs marked `contended` (cnn.runtime.contention): no time claim rests
on a time taken beside other work. It compares times taken on one CPU model: where a folder's runs
came from several machines (a study resumed elsewhere: the cache key holds the device, not the
CPU), the claim rests on the CPU with the most clean runs on both sides and leaves the others out.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass

import pandas as pd

from cnn.results import stats
from cnn.results.format import change, fmt, label
from cnn.results.metrics import described

POWER = 0.8  # the power the seed planner plans for, and the smallest detectable change is quoted at
VERDICTS = (*stats.VERDICTS, "not judged")
RULE = (f"each claim by the test its metric calls for (Welch's t, on log10 values for times and gradient norms; "
        f"exact for params and FLOPs; Fisher's exact on k of n seeds for learned-or-not), one-sided, with Holm's "
        f"correction over the family at {stats.ALPHA:g} for each kind of verdict; 'equivalent' by two one-sided "
        f"tests within the claim's smallest change that matters; intervals {stats.CONFIDENCE:.0%}, unadjusted")


@dataclass(frozen=True)
class Effect:
    """A claim the report makes only where the seeds show it: `high` has the larger `metric` (a
    runs.csv column) than `low`. `min_effect` is the smallest change that matters, fixed before the
    run: in the metric's units, or a ratio > 1 for a log-scale metric (1.1: 10%); "equivalent"
    means within it. A deterministic or two-state metric needs none."""

    metric: str
    low: str
    high: str
    claim: str
    min_effect: float | None = None

    def problem(self) -> str | None:
        """What is wrong with min_effect for this metric, or None."""
        declared = described(self.metric)
        if declared.deterministic or declared.scale == "binary":
            return None
        if self.min_effect is None:
            unit = "a ratio > 1, e.g. 1.1 for 10%" if declared.scale == "log" else "in its units, e.g. 0.01"
            return f"needs min_effect=, the smallest change of {declared.label} that matters ({unit})"
        if declared.scale == "log" and not self.min_effect > 1:
            return f"min_effect {self.min_effect!r} of log-scale {declared.label} is a ratio and must be > 1"
        if not self.min_effect > 0:
            return f"min_effect {self.min_effect!r} must be > 0"
        return None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Side:
    """One variant's values of the effect's metric, one per seed, and the baseline's seed spread of
    that variant (used only when this side has one seed)."""

    variant: str
    values: tuple[float, ...]
    baseline_std: float | None = None
    baseline_n: int | None = None  # the baseline's seeds behind baseline_std (its df is n - 1)
    contended: int = 0  # runs left out: a time measured while other work shared the cores
    other_cpu: int = 0  # runs left out: a time taken on another CPU model than the claim's
    cpu: str = ""  # the CPU model of the times, said where runs on another were left out

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    def text(self, metric: str) -> str:
        if described(metric).scale == "binary":
            return f"{int(sum(self.values))} of {self.n} learned"
        if described(metric).deterministic:
            return fmt(metric, self.mean)
        shared = f", {self.contended} contended left out" if self.contended else ""
        if self.other_cpu:
            shared += f", {self.other_cpu} on another CPU than {self.cpu} left out"
        if self.n > 1:
            return (f"{fmt(metric, self.mean)} ± {fmt(metric, statistics.stdev(self.values), sign=False)} "
                    f"(n={self.n}{shared})")
        if self.baseline_std is not None:
            return (f"{fmt(metric, self.mean)} (n=1{shared}; the baseline's std "
                    f"{fmt(metric, self.baseline_std, sign=False)})")
        return f"{fmt(metric, self.mean)} (n=1{shared})"

    def borrowed(self, scale: str) -> tuple[float, float] | None:
        """(sd, df) of the baseline's spread on the compared scale, for a one-seed side; None
        without one. On the log scale the spread of log10 values is std / (value ln 10) (the delta
        method, at this seed's value)."""
        if self.n != 1 or self.baseline_std is None or not (self.baseline_n or 0) > 1:
            return None
        sd = float(self.baseline_std)
        if scale == "log":
            if not self.values[0] > 0:
                return None
            sd = sd / (self.values[0] * math.log(10))
        return sd, float(self.baseline_n - 1)


@dataclass(frozen=True)
class Claim:
    """One effect of one axis on one device, with its two sides (None: no results for that side)."""

    axis: str
    device: str
    effect: Effect
    low: Side | None
    high: Side | None


@dataclass(frozen=True)
class Judgement:
    axis: str
    device: str
    metric: str
    low_variant: str
    high_variant: str
    claim: str
    verdict: str  # one of VERDICTS
    reason: str  # why it is not judged, or what an undetermined one would need ('' otherwise)
    numbers: str  # both sides: mean, spread and n (or k of n)
    test: str = ""  # cnn.results.stats' name of the test, '' when not judged
    scale: str = ""  # linear, log (estimate is a ratio), proportion or '' (not judged)
    estimate: float | None = None  # high - low, or high / low on the log scale
    ci_low: float | None = None
    ci_high: float | None = None
    p_adj: float | None = None  # the adjusted one-sided p of the claim (high > low)
    p_opposite_adj: float | None = None  # ... of the opposite (high < low)
    p_equivalence_adj: float | None = None  # ... of the TOST (within +/- min_effect)
    df: float | None = None
    n_low: int = 0
    n_high: int = 0
    min_effect: float | None = None
    seeds_needed: int | None = None  # seeds a side for 80% power at min_effect (the seed planner)
    smallest_detectable: float | None = None  # the change this run shows with 80% power, as it stands
    family: int = 0  # the stochastic claims judged together (Holm's m)

    @property
    def evidence(self) -> str:
        """The estimate, its interval, the adjusted p, the test and n: '' when not judged."""
        if not self.test:
            return ""
        if self.test == stats.EXACT:
            return f"{self._change(self.estimate)} (exact: the same for every seed)"
        df = f", df {self.df:.1f}" if self.df is not None else ""
        return (f"{self._change(self.estimate)} [{self._change(self.ci_low)}, {self._change(self.ci_high)}] "
                f"{stats.CONFIDENCE:.0%} CI, p_adj {self.p_adj:.2g} ({self.test}{df}), n {self.n_high} vs {self.n_low}")

    @property
    def text(self) -> str:
        """One line, the same in the terminal, effects.csv and the report."""
        evidence = f"{self.evidence}; " if self.evidence else ""
        if self.verdict == "shown":
            return f"shown: {self.claim}: {evidence}{self.numbers}"
        if self.verdict == "contradicted":
            return f"contradicted: the seeds show the opposite of \"{self.claim}\": {evidence}{self.numbers}"
        if self.verdict == "equivalent":
            within = "equal (exact)" if self.test == stats.EXACT else f"within ±{self._margin()}"
            return f"equivalent ({within}), so not \"{self.claim}\": {evidence}{self.numbers}"
        tail = f": {evidence}{self.numbers}" if self.numbers else ""
        return f"{self.verdict} ({self.reason}): \"{self.claim}\"{tail}"

    def row(self) -> dict:
        """effects.csv's row."""
        return {"axis": self.axis, "device": self.device, "metric": self.metric, "low": self.low_variant,
                "high": self.high_variant, "claim": self.claim, "verdict": self.verdict, "estimate": self.estimate,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "p_adj": self.p_adj, "test": self.test,
                "df": self.df, "n_low": self.n_low, "n_high": self.n_high, "min_effect": self.min_effect,
                "scale": self.scale, "seeds_needed": self.seeds_needed,
                "smallest_detectable": self.smallest_detectable, "family": self.family, "reason": self.reason,
                "text": self.text}

    def _change(self, value: float | None) -> str:
        return change(self.metric, value, self.scale)

    def _margin(self) -> str:
        if self.scale == "log":
            return f"{(self.min_effect - 1):.0%}"
        return fmt(self.metric, self.min_effect, sign=False)


def judge_claims(claims: list[Claim], family_size: int | None = None, plan: bool = True) -> list[Judgement]:
    """Every claim's judgement, the stochastic ones as one family (Holm), in the order given.
    `family_size`: these are part of a larger family whose other claims are not judged yet (one
    axis during the run): Bonferroni over that many, which shows nothing Holm over all would not.
    `plan=False` leaves out the seed planner's numbers (noncentral t searches: the slow part)."""
    prepared = [_prepare(claim) for claim in claims]
    comparisons = [c for c in prepared if isinstance(c, stats.Comparison)]
    family = family_size or sum(c.stochastic for c in comparisons)
    decisions = iter(stats.decide(comparisons, family_size=family_size))
    judged = []
    for claim, outcome in zip(claims, prepared):
        if isinstance(outcome, str):
            judged.append(_judgement(claim, "not judged", outcome, family=family))
        else:
            judged.append(_decided(claim, outcome, next(decisions), family, plan))
    return judged


def judge_axis(axis: str, effects, runs: pd.DataFrame, spreads: dict | None = None,
               family_size: int | None = None) -> list[Judgement]:
    """Every effect of one axis, per device in `runs` (runs.csv rows), as its own family or as part
    of one of `family_size` claims. `spreads` maps (device, axis, variant) to {metric: (the
    baseline's seed std, its seeds)}."""
    return judge_claims(claims_of(axis, effects, runs, spreads), family_size)


def judge_axes(axes: list[dict], runs: pd.DataFrame, spreads: dict | None = None) -> list[Judgement]:
    """Every recorded axis' effects (axes.json records) on `runs`: one family, the folder's."""
    claims = [claim for record in axes
              for claim in claims_of(record["name"], [Effect(**e) for e in record.get("effects", [])], runs, spreads)]
    return judge_claims(claims)


def claims_of(axis: str, effects, runs: pd.DataFrame, spreads: dict | None = None) -> list[Claim]:
    """The axis' claims on each device its runs have (cpu when none)."""
    axis_runs = runs[runs["axis"] == axis] if not runs.empty else runs
    devices = list(dict.fromkeys(axis_runs["device"])) if not axis_runs.empty else ["cpu"]
    claims = []
    for device in devices:
        on_device = axis_runs[axis_runs["device"] == device] if not axis_runs.empty else axis_runs
        for effect in effects:
            timed = described(effect.metric).timed
            measured = not on_device.empty and effect.metric in on_device.columns
            both = [on_device[on_device["variant"] == variant] if measured else None
                    for variant in (effect.low, effect.high)]
            contended = [0, 0]
            if timed and measured and "contended" in on_device.columns:
                for i, rows in enumerate(both):
                    shared = rows["contended"].astype(str).eq("True").to_numpy()
                    contended[i], both[i] = int(shared.sum()), rows[~shared]
            cpu, other_cpu = (_one_cpu(both) if timed and measured else ("", [0, 0]))
            if cpu:
                both = [rows[_cpu_names(rows) == cpu] for rows in both]
            sides = []
            for i, variant in enumerate((effect.low, effect.high)):
                values = tuple(float(x) for x in both[i][effect.metric].dropna()) if measured else ()
                std, n = _spread((spreads or {}).get((device, axis, variant), {}).get(effect.metric))
                left_out = contended[i] or other_cpu[i]
                sides.append(Side(variant, values, std, n, contended[i], other_cpu[i], cpu if other_cpu[i] else "")
                             if values or left_out else None)
            claims.append(Claim(axis, device, effect, *sides))
    return claims


def _cpu_names(rows: pd.DataFrame) -> pd.Series:
    """Each row's CPU model; a row that does not record one counts as a model of its own, so it is left out and
    counted where the others name one, never dropped unsaid."""
    return rows["cpu_model"].fillna("not recorded").astype(str)


def _one_cpu(both: list[pd.DataFrame]) -> tuple[str, list[int]]:
    """The CPU model a time claim's two sides (their clean runs) are compared on, and each side's
    runs on other models, left out: the model with the most runs on the side that has fewer, then
    the most in all. ('', [0, 0]) where the runs name one model or none."""
    if "cpu_model" not in both[0].columns:
        return "", [0, 0]
    models = [_cpu_names(rows) for rows in both]
    names = sorted(set(models[0]) | set(models[1]))
    if len(names) < 2:
        return "", [0, 0]
    counts = {name: [int((side == name).sum()) for side in models] for name in names}
    cpu = max(names, key=lambda name: (min(counts[name]), sum(counts[name]), name))
    return cpu, [len(side) - counts[cpu][i] for i, side in enumerate(models)]


def stochastic_claims(effects) -> int:
    """How many of `effects` are judged in the family (not exact): for a family's size up front."""
    return sum(not described(effect.metric).deterministic for effect in effects)


def _spread(recorded) -> tuple[float | None, int | None]:
    """A baseline spread as (std, n): recorded as [std, n]; an older baseline's bare std counts as
    two seeds (df 1), the fewest a spread has."""
    if recorded is None:
        return None, None
    if isinstance(recorded, (list, tuple)):
        return float(recorded[0]), int(recorded[1])
    return float(recorded), 2


def _prepare(claim: Claim) -> stats.Comparison | str:
    """The claim's comparison, or why it cannot be judged."""
    effect, low, high = claim.effect, claim.low, claim.high
    shared = [side for side in (low, high) if side is not None and not side.n and side.contended]
    if shared:
        return " and ".join(f"all {side.contended} runs of {side.variant}" for side in shared) + (
            " were timed while other work shared the cores (contended): no time claim rests on them")
    elsewhere = [side for side in (low, high) if side is not None and not side.n and side.other_cpu]
    if elsewhere:
        return " and ".join(f"all {side.other_cpu} clean runs of {side.variant}" for side in elsewhere) + (
            f" were timed on another CPU than {elsewhere[0].cpu}: times from two machines are not compared")
    missing = [variant for variant, side in ((effect.low, low), (effect.high, high)) if side is None or not side.n]
    if missing:
        return (f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no {label(effect.metric)} on "
                f"{claim.device} in these results (deselected, failed or not run yet)")
    declared = described(effect.metric)
    try:
        if declared.scale == "binary":
            return stats.binary(int(sum(low.values)), low.n, int(sum(high.values)), high.n)
        if declared.deterministic:
            return stats.compare(low.values, high.values, scale=declared.scale, deterministic=True,
                                 min_effect=effect.min_effect)
        if effect.min_effect is None:
            return "the effect declares no min_effect (the smallest change that matters)"
        unknown = [side.variant for side in (low, high) if side.n < 2 and side.borrowed(declared.scale) is None]
        if unknown:
            return (f"{' and '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} one seed and the baseline "
                    "records no spread for it, so the spread is unknown")
        return stats.compare(low.values, high.values, scale=declared.scale, deterministic=False,
                             min_effect=effect.min_effect, borrowed_low=low.borrowed(declared.scale),
                             borrowed_high=high.borrowed(declared.scale))
    except ValueError as error:
        return str(error)


def _decided(claim: Claim, comparison: stats.Comparison, decision: stats.Decision, family: int,
             plan: bool = True) -> Judgement:
    """The judgement of a compared claim; every stochastic one carries the seed planner's numbers,
    and an undetermined one says them as its reason."""
    planned = plan and comparison.stochastic
    reason, (needed, detectable) = "", _plan(comparison, family) if planned else (None, None)
    if decision.verdict == "undetermined":
        reason = _needs(claim.effect, comparison, needed, detectable)
    return _judgement(claim, decision.verdict, reason, comparison, decision, needed, detectable, family)


def _judgement(claim: Claim, verdict: str, reason: str, comparison: stats.Comparison | None = None,
               decision: stats.Decision | None = None, needed: int | None = None, detectable: float | None = None,
               family: int = 0) -> Judgement:
    effect = claim.effect
    numbers = ""
    if claim.low is not None and claim.high is not None and claim.low.n and claim.high.n:
        numbers = (f"{label(effect.metric)} {effect.high}: {claim.high.text(effect.metric)} vs {effect.low}: "
                   f"{claim.low.text(effect.metric)}")
    found = {}
    if comparison is not None:
        found = dict(test=comparison.test, scale=comparison.scale, estimate=comparison.estimate,
                     ci_low=comparison.ci_low, ci_high=comparison.ci_high, df=comparison.df,
                     n_low=comparison.n_low, n_high=comparison.n_high)
    if decision is not None:
        found.update(p_adj=decision.p, p_opposite_adj=decision.p_opposite, p_equivalence_adj=decision.p_equivalence)
    return Judgement(claim.axis, claim.device, effect.metric, effect.low, effect.high, effect.claim, verdict, reason,
                     numbers, min_effect=effect.min_effect, seeds_needed=needed, smallest_detectable=detectable,
                     family=family, **found)


def _plan(comparison: stats.Comparison, family: int) -> tuple[int | None, float | None]:
    """(seeds a side for 80% power at min_effect, the change this run shows with 80% power), at
    Holm's first-step level alpha / m, which promises that power whatever the other claims do."""
    if comparison.scale == "proportion" or comparison.min_effect is None:
        return None, None
    alpha = stats.ALPHA / max(family, 1)
    sd_low, sd_high = comparison.sd_low or 0.0, comparison.sd_high or 0.0
    try:
        needed = stats.seeds_needed(sd_low, sd_high, comparison.min_effect, POWER, alpha, scale=comparison.scale)
    except ValueError:
        needed = None
    welch = comparison.test == stats.WELCH
    try:
        detectable = stats.smallest_detectable(sd_low, comparison.n_low, sd_high, comparison.n_high, POWER, alpha,
                                               scale=comparison.scale, df=None if welch else comparison.df)
    except ValueError:
        detectable = None
    return needed, detectable


def _needs(effect: Effect, comparison: stats.Comparison, needed: int | None, detectable: float | None) -> str:
    if comparison.scale == "proportion":
        return "k of n: this many seeds cannot show it after the correction; more seeds a side would"
    parts = []
    if detectable is not None and comparison.scale == "log" and detectable > 1000:
        parts.append(f"this run would show no change under 1000x with {POWER:.0%} power")
    elif detectable is not None:
        parts.append(f"the smallest change this run shows with {POWER:.0%} power is "
                     f"{change(effect.metric, detectable, comparison.scale, sign=False)}")
    if needed is not None:
        parts.append(f"min_effect {change(effect.metric, effect.min_effect, comparison.scale, sign=False)} "
                     f"needs {needed} seeds a side")
    return "; ".join(parts) or "the interval spans both verdicts"

