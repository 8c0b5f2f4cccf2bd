"""The statistics behind every verdict, on scipy.stats: one comparison per claim, Holm's correction
over a run's claims, the verdict, the seed planner and the regression guard's bound.

A claim says `high` has the larger metric than `low`, with the smallest change that matters
(`min_effect`: in the metric's units, or a ratio > 1 for a log-scale metric), fixed before the run.

- Stochastic metrics: Welch's t (Satterthwaite df) on the seeds of the two sides, or, when the caller
  passes a spread pooled over the study's variants for that metric, a t on that spread with its
  larger df. Log-scale metrics (times, gradient norms, samples/s) are compared on log10 values, so
  the estimate is the ratio of geometric means. The p of a claim is one-sided (H1: high > low).
- Deterministic metrics (params, FLOPs) are compared exactly: no p, no interval.
- Two-state outcomes (a seed learned or stayed at chance) are k of n seeds: Fisher's exact test,
  the difference of proportions with Newcombe's hybrid score interval.

The families (`decide`): Holm-Bonferroni over the run's stochastic claims, once for the claimed
direction ("shown"), once for the opposite direction ("contradicted") and once for the TOST p
("equivalent"). Each kind of verdict is then wrong somewhere in a run with probability <= alpha
whatever the dependence between claims (a shared control); a run with no real effects is reported
with a false "shown" in <= 5% of runs, and with a false "shown" or "contradicted" in <= 10%
(tests/test_stats.py measures both; `joint_directions` makes the two one family of 2m, for <= 5%
of either, at the price of power). The TOST p is Holm-adjusted too, because "equivalent" is a
claim that the change is too small to matter, and a run makes many of them.

The 95% interval beside a verdict is the plain two-sided one, unadjusted. "Shown" rests on the
one-sided adjusted p, so an interval may reach past zero beside "shown" only where Holm compares
the raw p with alpha itself (every other claim of the family rejected) and the raw p is in
0.025-0.05.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

CONFIDENCE = 0.95  # the level of every interval reported beside a verdict
ALPHA = 0.05  # the family-wise error rate of each kind of verdict in one run
VERDICTS = ("shown", "equivalent", "contradicted", "undetermined")  # the caller adds "not judged"
WELCH = "Welch t"
POOLED = "t on the study's pooled spread"
BORROWED = "Welch t, a one-seed side's spread from the baseline"
EXACT = "exact (deterministic)"
FISHER = "Fisher's exact"


@dataclass(frozen=True)
class Comparison:
    """One claim's numbers: high against low.

    `estimate` is high - low (linear scale, and for proportions), or the ratio high/low of the
    geometric means (log scale). `ci_low`/`ci_high` are its 95% interval in the same terms. `p` is
    one-sided for high > low, `p_opposite` for high < low, `p_equivalence` the TOST p for a change
    within +/- min_effect (None where there is no test: deterministic metrics, and `p_equivalence`
    for k of n outcomes). `sd_low`/`sd_high` are the spreads the test used, on the compared scale
    (log10 values for a log-scale metric), for the seed planner.
    """

    test: str  # WELCH, POOLED, BORROWED, EXACT or FISHER
    interval: str  # which interval ci_low..ci_high is
    scale: str  # "linear", "log" or "proportion"
    estimate: float
    ci_low: float
    ci_high: float
    p: float | None
    p_opposite: float | None
    p_equivalence: float | None
    n_low: int
    n_high: int
    df: float | None  # the t test's degrees of freedom; None for exact tests
    min_effect: float | None
    sd_low: float | None = None
    sd_high: float | None = None

    @property
    def null(self) -> float:
        """The estimate of no change: 1 for a ratio, else 0."""
        return 1.0 if self.scale == "log" else 0.0

    @property
    def stochastic(self) -> bool:
        """Whether this comparison has a p (and so belongs to the run's Holm family)."""
        return self.p is not None


@dataclass(frozen=True)
class Decision:
    """A claim's verdict and its Holm-adjusted p values (None where the comparison has no such p)."""

    verdict: str  # one of VERDICTS
    p: float | None  # adjusted, for high > low
    p_opposite: float | None  # adjusted, for high < low
    p_equivalence: float | None  # adjusted TOST p


def compare(low: Sequence[float], high: Sequence[float], *, scale: str, deterministic: bool, min_effect: float,
            pooled_sd: float | None = None, pooled_df: float | None = None,
            borrowed_low: tuple[float, float] | None = None,
            borrowed_high: tuple[float, float] | None = None) -> Comparison:
    """The comparison of `high` with `low` (one value per seed each) for a claim high > low.

    `scale` is the metric's ("linear" or "log": compared on log10 values). `pooled_sd`/`pooled_df`:
    a spread pooled over the study's variants for this metric (see `pooled_spread`; on log10 values
    for a log-scale metric) and its degrees of freedom; when given, the t uses it instead of
    Welch's. `borrowed_low`/`borrowed_high`: (sd, df) for a side with one seed, its spread measured
    elsewhere (the baseline's seeds of that variant, on the compared scale); the t is then Welch's
    with Satterthwaite's df over the df each spread has. Raises ValueError for an empty side, a NaN,
    a value <= 0 on the log scale, a min_effect out of range, a deterministic metric that varies
    across seeds, and a stochastic one with no spread (one seed a side without a pooled spread or a
    borrowed one, or every seed equal).
    """
    if scale not in ("linear", "log"):
        raise ValueError(f"scale {scale!r} is not 'linear' or 'log'")
    low_values, high_values = _values(low, "low", scale), _values(high, "high", scale)
    if deterministic:
        return _exact(low_values, high_values, scale, min_effect)
    margin = _delta(min_effect, scale)  # the equivalence margin on the compared scale
    n_low, n_high = len(low_values), len(high_values)
    difference = float(np.mean(high_values) - np.mean(low_values))
    sd_low = float(np.std(low_values, ddof=1)) if n_low > 1 else None
    sd_high = float(np.std(high_values, ddof=1)) if n_high > 1 else None
    if pooled_sd is not None:
        if pooled_df is None or not pooled_df > 0 or not pooled_sd > 0:
            raise ValueError(f"a pooled spread needs pooled_sd > 0 and pooled_df > 0, not {pooled_sd!r}, {pooled_df!r}")
        test, df = POOLED, float(pooled_df)
        error = pooled_sd * math.sqrt(1 / n_low + 1 / n_high)
        sd_low = sd_high = float(pooled_sd)
    elif (n_low < 2 and borrowed_low) or (n_high < 2 and borrowed_high):
        spreads = []
        for n, own, borrowed, side in ((n_low, sd_low, borrowed_low, "low"), (n_high, sd_high, borrowed_high, "high")):
            if n > 1:
                spreads.append((own, n - 1.0))
            elif borrowed and borrowed[0] >= 0 and borrowed[1] > 0:
                spreads.append((float(borrowed[0]), float(borrowed[1])))
            else:
                raise ValueError(f"{side} has one seed and no borrowed spread (sd >= 0, df > 0): {borrowed!r}")
        (sd_low, df_low), (sd_high, df_high) = spreads
        parts = (sd_low**2 / n_low, sd_high**2 / n_high)
        if sum(parts) == 0:
            raise ValueError("every seed of both sides has the same value: the spread is unknown")
        test, error = BORROWED, math.sqrt(sum(parts))
        df = sum(parts) ** 2 / (parts[0] ** 2 / df_low + parts[1] ** 2 / df_high)
    else:
        if n_low < 2 or n_high < 2:
            raise ValueError(f"Welch's t needs two seeds a side (low has {n_low}, high {n_high}) or a pooled spread")
        if sd_low == 0 and sd_high == 0:
            raise ValueError("every seed of both sides has the same value: the spread is unknown")
        with warnings.catch_warnings():  # a side of identical seeds (a variant at chance) is no loss of precision
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
            welch = sps.ttest_ind(high_values, low_values, equal_var=False)
        interval = welch.confidence_interval(CONFIDENCE)
        test, df = WELCH, float(welch.df)
        # The standard error scipy's own interval is built on (half its width over the t quantile).
        error = float(interval.high - interval.low) / (2 * sps.t.ppf(0.5 + CONFIDENCE / 2, df))
    quantile = sps.t.ppf(0.5 + CONFIDENCE / 2, df)
    ci = (difference - quantile * error, difference + quantile * error)
    p = float(sps.t.sf(difference / error, df))
    p_opposite = float(sps.t.cdf(difference / error, df))
    # TOST (Schuirmann 1987): both one-sided tests against the margins must reject; its p is the larger.
    above, below = sps.t.sf((difference + margin) / error, df), sps.t.cdf((difference - margin) / error, df)
    p_equivalence = float(max(above, below))
    back = (lambda x: float(10.0**x)) if scale == "log" else float
    return Comparison(test, f"{CONFIDENCE:.0%} t", scale, back(difference), back(ci[0]), back(ci[1]), p, p_opposite,
                      p_equivalence, n_low, n_high, df, min_effect, sd_low, sd_high)


def binary(k_low: int, n_low: int, k_high: int, n_high: int) -> Comparison:
    """The comparison of two k-of-n outcomes (seeds that learned, say) for a claim high > low:
    Fisher's exact test (one-sided p each way, conditional on the margins), the difference of
    proportions k_high/n_high - k_low/n_low with Newcombe's hybrid score interval (his method 10,
    Stat Med 1998;17:873-890: the two Wilson intervals combined). No equivalence test: at a few
    seeds a side k of n cannot show one. Raises ValueError unless 0 <= k <= n and n >= 1."""
    for k, n, side in ((k_low, n_low, "low"), (k_high, n_high, "high")):
        if not (n >= 1 and 0 <= k <= n):
            raise ValueError(f"{side}: {k} of {n} is not a count of seeds (need 0 <= k <= n, n >= 1)")
    table = [[k_high, n_high - k_high], [k_low, n_low - k_low]]
    p = float(sps.fisher_exact(table, alternative="greater").pvalue)
    p_opposite = float(sps.fisher_exact(table, alternative="less").pvalue)
    p_high, p_low = k_high / n_high, k_low / n_low
    high_ci = sps.binomtest(k_high, n_high).proportion_ci(CONFIDENCE, method="wilson")
    low_ci = sps.binomtest(k_low, n_low).proportion_ci(CONFIDENCE, method="wilson")
    difference = p_high - p_low
    ci_low = difference - math.hypot(p_high - high_ci.low, low_ci.high - p_low)
    ci_high = difference + math.hypot(high_ci.high - p_high, p_low - low_ci.low)
    return Comparison(FISHER, f"{CONFIDENCE:.0%} Newcombe hybrid score", "proportion", difference, ci_low, ci_high,
                      p, p_opposite, None, n_low, n_high, None, None)


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p values (Holm 1979, Scand J Statist 6:65-70), along the last axis:
    the i-th smallest of m is multiplied by m - i + 1, made non-decreasing in that order, capped at
    1. Rejecting where the adjusted p <= alpha controls the family-wise error rate at alpha under
    any dependence. Raises ValueError for a NaN or a value outside [0, 1]."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return p.copy()
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p values must be in [0, 1]: {p.tolist()}")
    order = np.argsort(p, axis=-1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=-1)
    m = p.shape[-1]
    stepped = np.minimum(np.maximum.accumulate(ranked * np.arange(m, 0, -1), axis=-1), 1.0)
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, stepped, axis=-1)
    return adjusted


def verdict(comparison: Comparison, adjusted_p: float | None = None, *, adjusted_opposite: float | None = None,
            adjusted_equivalence: float | None = None, alpha: float = ALPHA) -> str:
    """One of VERDICTS. shown: the one-sided (adjusted) test rejects and the estimate is beyond
    no change; contradicted: the opposite one-sided test rejects and the estimate is below it;
    equivalent: TOST rejects (the change is within +/- min_effect); else undetermined. Shown and
    contradicted come first: a change that is real but smaller than min_effect is shown, and its
    interval says how small. A deterministic comparison is exact: shown, contradicted or (equal)
    equivalent. Raises ValueError where a stochastic comparison's adjusted p is missing."""
    if not comparison.stochastic:
        if comparison.estimate > comparison.null:
            return "shown"
        return "contradicted" if comparison.estimate < comparison.null else "equivalent"
    if adjusted_p is None or adjusted_opposite is None:
        raise ValueError("a stochastic comparison needs its Holm-adjusted p for both directions (see decide())")
    if adjusted_p <= alpha and comparison.estimate > comparison.null:
        return "shown"
    if adjusted_opposite <= alpha and comparison.estimate < comparison.null:
        return "contradicted"
    if adjusted_equivalence is not None and adjusted_equivalence <= alpha:
        return "equivalent"
    return "undetermined"


def decide(comparisons: Sequence[Comparison], alpha: float = ALPHA, joint_directions: bool = False,
           family_size: int | None = None) -> list[Decision]:
    """The verdict of each claim of one run (the family): Holm over the stochastic comparisons'
    p, over their p_opposite, and over the TOST p of those that have one; deterministic ones are
    exact and outside the family. With `joint_directions`, p and p_opposite are one family of 2m
    (a false "shown" or "contradicted" anywhere in a run <= alpha, at some power for "shown").

    `family_size`: these comparisons are part of a family of that many claims whose other p values
    are not known yet (one axis judged while the run goes on): Bonferroni, p x family_size, which
    rejects only what Holm over the whole family will reject too. Raises ValueError where it is
    smaller than the stochastic comparisons given."""
    stochastic = [i for i, c in enumerate(comparisons) if c.stochastic]
    with_tost = [i for i in stochastic if comparisons[i].p_equivalence is not None]
    ps = [comparisons[i].p for i in stochastic]
    opposites = [comparisons[i].p_opposite for i in stochastic]
    if family_size is not None:
        if family_size < len(stochastic):
            raise ValueError(f"family_size {family_size} is smaller than the {len(stochastic)} claims given")

        def bonferroni(values, factor):
            return [min(1.0, x * factor) for x in values]

        directions = family_size * (2 if joint_directions else 1)
        adjusted_p, adjusted_opposite = bonferroni(ps, directions), bonferroni(opposites, directions)
        tost = bonferroni([comparisons[i].p_equivalence for i in with_tost], family_size)
    elif joint_directions:
        both = holm(ps + opposites).tolist()
        adjusted_p, adjusted_opposite = both[: len(ps)], both[len(ps):]
    else:
        adjusted_p, adjusted_opposite = holm(ps).tolist(), holm(opposites).tolist()
    if family_size is None:
        tost = holm([comparisons[i].p_equivalence for i in with_tost]).tolist()
    p, opposite = dict(zip(stochastic, adjusted_p)), dict(zip(stochastic, adjusted_opposite))
    equivalence = dict(zip(with_tost, tost))
    decisions = []
    for i, comparison in enumerate(comparisons):
        adjusted = p.get(i), opposite.get(i), equivalence.get(i)
        decisions.append(Decision(verdict(comparison, adjusted[0], adjusted_opposite=adjusted[1],
                                          adjusted_equivalence=adjusted[2], alpha=alpha), *adjusted))
    return decisions


def pooled_spread(samples: Sequence[Sequence[float]], scale: str = "linear") -> tuple[float, float]:
    """(sd, df): the seed spread pooled over variants (each a sequence of one metric's values per
    seed; those with one seed add nothing), sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)), with
    df = sum (n_i - 1); on log10 values for scale "log". It assumes one spread for all of them:
    leave out two-state variants (sigmoid learning or not). Raises ValueError without any df."""
    groups = [_values(values, "a variant", scale) for values in samples]
    groups = [g for g in groups if len(g) > 1]
    df = sum(len(g) - 1 for g in groups)
    if not df:
        raise ValueError("no variant has two seeds: nothing to pool")
    return math.sqrt(sum((len(g) - 1) * float(np.var(g, ddof=1)) for g in groups) / df), float(df)


def moderated_spread(variances, df) -> tuple[np.ndarray, float, float]:
    """(variances, prior df d0, prior variance s0^2): each variant's seed variance shrunk toward the grid's typical one
    by Smyth's empirical Bayes (Stat Appl Genet Mol Biol 2004;3:3, limma's squeezeVar), which fits
    a scaled inverse chi-square prior (d0, s0^2) to the sample variances by moments of their logs:
    s~^2 = (d0 s0^2 + d s^2) / (d0 + d), to be used with d0 + d degrees of freedom. Every variant
    keeps its own spread where the grid's spreads differ (d0 small) and borrows df where they agree
    (d0 large; infinite when they vary no more than sampling alone would: then s~^2 = s0^2).
    Zero variances (a variant at chance every seed) get the posterior but are left out of the fit.
    `df` is one number or one per variance. Raises ValueError with fewer than 3 positive
    variances, or a df <= 0."""
    s2 = np.asarray(variances, dtype=float)
    d = np.broadcast_to(np.asarray(df, dtype=float), s2.shape)
    if (d <= 0).any() or np.isnan(s2).any() or (s2 < 0).any():
        raise ValueError(f"variances must be >= 0 with df > 0: {s2.tolist()}, {d.tolist()}")
    fit = s2 > 0
    if fit.sum() < 3:
        raise ValueError(f"{int(fit.sum())} positive variances: too few to fit the grid's prior (need 3)")
    e = np.log(s2[fit]) - special.digamma(d[fit] / 2) + np.log(d[fit] / 2)
    excess = float(np.var(e, ddof=1) - np.mean(special.polygamma(1, d[fit] / 2)))
    if excess <= 0:  # no more spread among the variances than sampling makes: one prior variance
        s0_squared = math.exp(float(np.mean(e)))
        return np.full_like(s2, s0_squared), math.inf, s0_squared
    # trigamma is decreasing from +inf to 0 on (0, inf): the half-df whose trigamma is the excess.
    upper = 1.0
    while special.polygamma(1, upper) > excess:
        upper *= 2
    d0 = 2 * optimize.brentq(lambda x: special.polygamma(1, x) - excess, 1e-12, upper)
    s0_squared = math.exp(float(np.mean(e)) + special.digamma(d0 / 2) - math.log(d0 / 2))
    return (d0 * s0_squared + d * s2) / (d0 + d), float(d0), s0_squared


def power_at(sd_low: float, sd_high: float, n: int, min_effect: float, *, alpha: float = ALPHA,
          alternative: str = "one-sided", scale: str = "linear", df: float | None = None) -> float:
    """The chance that Welch's t at level `alpha` (the level the claim is tested at) shows a true
    change of min_effect with n seeds a side: the noncentral t with Satterthwaite's df (or `df`).
    On the log scale, min_effect is a ratio and the sds are of log10 values."""
    return _power(math.sqrt((sd_low**2 + sd_high**2) / n), _delta(min_effect, scale),
                  _satterthwaite(sd_low, n, sd_high, n) if df is None else df, alpha, alternative)


def seeds_needed(sd_low: float, sd_high: float, min_effect: float, power: float = 0.8, alpha: float = ALPHA,
                 alternative: str = "one-sided", scale: str = "linear", limit: int = 100_000) -> int:
    """The seeds a side (at least 2) for Welch's t at level `alpha` to show a true change of
    min_effect with probability `power`, from the two sides' spreads (a pilot's, or the run's).
    For a family of m claims under Holm, alpha/m promises the power whatever the other claims do.
    Raises ValueError when more than `limit` seeds would be needed, or for a bad argument."""
    if not 0 < power < 1:
        raise ValueError(f"power {power!r} must be between 0 and 1")
    _delta(min_effect, scale)

    def enough(n: int) -> bool:
        return power_at(sd_low, sd_high, n, min_effect, alpha=alpha, alternative=alternative, scale=scale) >= power

    low, high = 1, 2  # enough(low) is False or low < 2; enough(high) is being looked for
    while not enough(high):
        low, high = high, 2 * high
        if high > 2 * limit:
            raise ValueError(f"more than {limit} seeds a side would be needed for a change of {min_effect}")
    while high - low > 1:  # power grows with n: bisect between the last too few and the first enough
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    if high > limit:
        raise ValueError(f"more than {limit} seeds a side would be needed for a change of {min_effect}")
    return high


def smallest_detectable(sd_low: float, n_low: int, sd_high: float, n_high: int, power: float = 0.8,
                        alpha: float = ALPHA, alternative: str = "one-sided", scale: str = "linear",
                        df: float | None = None) -> float:
    """The smallest true change the run as it stands shows with probability `power` (Welch's t at
    level `alpha`, Satterthwaite's df or `df` for a pooled spread): in the metric's units, or a
    ratio on the log scale (sds of log10 values). Raises ValueError for fewer than 2 seeds a side
    without `df`, or a power out of (alpha, 1)."""
    if df is None and (n_low < 2 or n_high < 2):
        raise ValueError(f"Welch's t needs two seeds a side (low has {n_low}, high {n_high}) or a df")
    if not alpha < power < 1:
        raise ValueError(f"power {power!r} must be between alpha {alpha!r} and 1")
    error = math.sqrt(sd_low**2 / n_low + sd_high**2 / n_high)
    dof = _satterthwaite(sd_low, n_low, sd_high, n_high) if df is None else df
    upper = 1.0
    while _power(1.0, upper, dof, alpha, alternative) < power:
        upper *= 2
    noncentrality = optimize.brentq(lambda nc: _power(1.0, nc, dof, alpha, alternative) - power, 0.0, upper)
    delta = noncentrality * error
    if scale == "log":
        return 10.0**delta if delta < 300 else math.inf  # beyond a float: no finite change is seen
    return delta


def guard_bound(baseline_mean, baseline_sd, baseline_n, n_new, *, false_alarm: float, floor: float, df=None):
    """The lowest mean accuracy of `n_new` new seeds that is not a regression from a baseline of
    `baseline_n` seeds: a one-sided t prediction bound, mean - t(1 - false_alarm, df) * sd *
    sqrt(1/n_new + 1/baseline_n), with the baseline's df (baseline_n - 1, or `df` for a spread
    pooled over the grid), never closer to the mean than `floor` accuracy points. Unchanged code
    with new seeds falls below it with probability <= false_alarm (exactly that where the floor
    does not bind, for normal seeds). Arrays broadcast. Raises ValueError where baseline_n < 2
    without `df`, or for a false_alarm outside (0, 1)."""
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm {false_alarm!r} must be between 0 and 1")
    baseline_n = np.asarray(baseline_n, dtype=float)
    if df is None:
        if (baseline_n < 2).any():
            raise ValueError("a baseline of one seed has no spread: the bound needs two seeds or a pooled df")
        df = baseline_n - 1
    error = np.asarray(baseline_sd) * np.sqrt(1 / np.asarray(n_new) + 1 / baseline_n)
    tolerance = sps.t.ppf(1 - false_alarm, df) * error
    bound = np.asarray(baseline_mean) - np.maximum(tolerance, floor)
    return float(bound) if bound.ndim == 0 else bound


def grid_spreads(sds, seeds) -> tuple[np.ndarray, np.ndarray]:
    """(spread, df) of each variant of a grid for the guard: its seed spread moderated over the grid
    (moderated_spread: its own seeds' df plus the prior's). `sds` may hold NaN for a variant of one
    seed: it takes the prior's spread and df. Where the grid has too few spreads to fit a prior,
    each keeps its own spread and df, and a one-seed variant has spread 0 (only a floor guards it)."""
    sds = np.asarray(sds, dtype=float)
    seeds = np.broadcast_to(np.asarray(seeds, dtype=float), sds.shape)
    known = (seeds > 1) & ~np.isnan(sds)
    variances, df = np.where(known, sds, 0.0) ** 2, np.maximum(seeds - 1, 0)
    try:
        moderated, prior, s0_squared = moderated_spread(variances[known], df[known])
    except ValueError:
        return np.where(known, np.sqrt(variances), 0.0), np.where(known, df, 1.0)
    spread = np.full(sds.shape, math.sqrt(s0_squared))
    spread[known] = np.sqrt(moderated)
    return spread, np.where(known, df, 0.0) + prior


def grid_shift(new_means, n_new, baseline_means, spread, baseline_n, df) -> tuple[float, float]:
    """(z, p): whether a grid's accuracies fell as a whole, the broad small drop no one variant's
    bound sees. Each variant's standardised change t_i = (new - baseline) / (spread sqrt(1/n_new +
    1/n_baseline)) is a t with its df under unchanged code (exactly so with each variant's own spread
    and df n - 1; tests/test_stats.py measures it); Stouffer's z = sum Phi^-1(F_t(t_i)) /
    sqrt(V) is then standard normal (the variants train apart), and p = Phi(z) is one-sided (a drop).
    Raises ValueError without any variant."""
    new_means = np.asarray(new_means, dtype=float)
    if not new_means.size:
        raise ValueError("no variant to compare")
    t = (new_means - np.asarray(baseline_means)) / (
        np.asarray(spread) * np.sqrt(1 / np.asarray(n_new, dtype=float) + 1 / np.asarray(baseline_n, dtype=float)))
    z = float(np.sum(sps.norm.ppf(np.clip(sps.t.cdf(t, df), 1e-300, 1 - 1e-16))) / math.sqrt(new_means.size))
    return z, float(sps.norm.cdf(z))


def per_variant_false_alarm(budget: float, variants: int) -> float:
    """The false-alarm rate each variant's check may have so that one run of a grid of `variants`
    fails by chance with probability <= budget: Bonferroni, budget / variants, which holds under
    any dependence between the variants (Sidak's 1 - (1 - budget)**(1/variants) is exact only for
    independent ones, and is hardly larger: 1.1167e-4 against 1.1111e-4 for 1% over 90).
    Raises ValueError for a budget outside (0, 1) or fewer than one variant."""
    if not 0 < budget < 1 or variants < 1:
        raise ValueError(f"budget {budget!r} must be in (0, 1) and variants {variants!r} at least 1")
    return budget / variants


def _values(values: Sequence[float], side: str, scale: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{side} has no values")
    if np.isnan(array).any():
        raise ValueError(f"{side} has a NaN: {array.tolist()}")
    if scale == "log":
        if (array <= 0).any():
            raise ValueError(f"{side} has a value <= 0 on a log scale: {array.tolist()}")
        return np.log10(array)
    return array


def _exact(low: np.ndarray, high: np.ndarray, scale: str, min_effect: float) -> Comparison:
    for values, side in ((low, "low"), (high, "high")):
        if not np.allclose(values, values[0], rtol=1e-9, atol=0):
            raise ValueError(f"{side} varies across seeds ({values.tolist()}) but the metric is declared deterministic")
    difference = float(high[0] - low[0])
    estimate = 10.0**difference if scale == "log" else difference
    return Comparison(EXACT, "exact", scale, estimate, estimate, estimate, None, None, None, len(low), len(high),
                      None, min_effect)


def _delta(min_effect: float, scale: str) -> float:
    if scale == "log":
        if not min_effect > 1:
            raise ValueError(f"min_effect {min_effect!r} of a log-scale metric is a ratio and must be > 1")
        return math.log10(min_effect)
    if not min_effect > 0:
        raise ValueError(f"min_effect {min_effect!r} must be > 0")
    return min_effect


def _satterthwaite(sd_low: float, n_low: int, sd_high: float, n_high: int) -> float:
    """Welch-Satterthwaite df (Welch 1947) for these spreads and seeds. scipy computes it only
    inside ttest_ind from data; the planner has spreads, not data."""
    low, high = sd_low**2 / n_low, sd_high**2 / n_high
    if low + high == 0:
        return float(n_low + n_high - 2)
    return (low + high) ** 2 / (low**2 / (n_low - 1) + high**2 / (n_high - 1))


def _power(error: float, delta: float, df: float, alpha: float, alternative: str) -> float:
    """P(reject) of a t test at level alpha when the true change is delta and the standard error
    `error`: the noncentral t (scipy.stats.nct)."""
    if alternative not in ("one-sided", "two-sided"):
        raise ValueError(f"alternative {alternative!r} is not 'one-sided' or 'two-sided'")
    if error == 0:
        return 1.0
    noncentrality = delta / error
    if alternative == "one-sided":
        return float(sps.nct.sf(sps.t.ppf(1 - alpha, df), df, noncentrality))
    critical = sps.t.ppf(1 - alpha / 2, df)
    return float(sps.nct.sf(critical, df, noncentrality) + sps.nct.cdf(-critical, df, noncentrality))
