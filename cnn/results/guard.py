"""The regression guard: whether unchanged code would have given these test accuracies.

Two checks share one false-alarm budget for a run of the whole grid (GUARD_BUDGET: unchanged code
with new seeds fails a grid run by chance with probability <= 1%; tests/test_stats.py measures it
on the smoke grid's real spreads):

- each variant: its mean below a one-sided t prediction bound from its baseline, with its seed
  spread moderated over the profile's variants (Smyth's empirical Bayes: the df it borrows from the
  grid) and never closer than MIN_TOLERANCE; half the budget, split over the variants (Bonferroni).
  With 3 baseline seeds and one new one it catches a variant that falls ~0.15 (a typical spread),
  so it is for a variant that breaks;
- the grid: Stouffer's z of every variant's standardised change (its own spread and df), for a
  broad small drop no single bound sees (0.005 on every variant is caught in ~100% of runs); the
  other half. One-sided: improving never fails. (Effects are judged in cnn.results.judge.)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from cnn.files import read_json, write_json
from cnn.results import stats
from cnn.results.metrics import baseline_spread_metrics

GUARD_BUDGET = 0.01  # the chance that unchanged code fails one run of the whole grid: half each check
MIN_TOLERANCE = 0.015  # accuracy points; a variant's bound is never closer (a tiny spread, a one-seed baseline)
LEARNED_FACTOR = 3.0  # "learned" means test accuracy at least 3x chance


def variant_key(device: str, axis: str, variant: str) -> str:
    return f"{device}/{axis}[{variant}]"


def test_accuracies(runs: pd.DataFrame) -> dict[str, list[float]]:
    """Variant key -> its test accuracies, one per seed, from runs.csv rows."""
    return {variant_key(device, axis, variant): group["test_accuracy"].dropna().tolist()
            for (axis, variant, device), group in runs.groupby(["axis", "variant", "device"], sort=False)}


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single value: its spread is unknown)."""
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


@dataclass
class Baseline:
    """Expected test accuracy per variant, per profile, from several seeds (results/baseline.json)."""

    path: Path
    profiles: dict

    @classmethod
    def load(cls, path: str | Path) -> "Baseline":
        return cls(Path(path), read_json(path) or {})

    def entry(self, profile: str, dataset_fingerprint: str, key: str) -> dict | None:
        """The baseline for a variant, when one was recorded for this profile on the same data."""
        recorded = self.profiles.get(profile)
        if not recorded or recorded.get("dataset_fingerprint") != dataset_fingerprint:
            return None
        return recorded["variants"].get(key)

    def unguarded(self, profile: str, dataset_fingerprint: str) -> str | None:
        """One line saying that accuracy is not guarded, where this file has no entry for the profile
        on this data (a new project, an npz: dataset); None when it has one."""
        recorded = self.profiles.get(profile)
        if recorded and recorded.get("dataset_fingerprint") == dataset_fingerprint and recorded.get("variants"):
            return None
        of = "" if not recorded else f" on this data (it has one for {recorded.get('dataset', 'other data')})"
        return (f"no baseline for profile {profile}{of} in {self.path}: accuracy is not guarded; "
                "run once with --ablation-update-baseline")

    def spreads(self, profile: str, dataset_fingerprint: str) -> dict:
        """(device, axis, variant) -> {metric: (seed std, seeds)} recorded for this profile on the same data."""
        recorded = self.profiles.get(profile)
        if not recorded or recorded.get("dataset_fingerprint") != dataset_fingerprint:
            return {}
        spreads = {}
        for key, entry in recorded["variants"].items():
            device, _, rest = key.partition("/")
            axis, _, variant = rest.partition("[")
            spreads[(device, axis, variant.removesuffix("]"))] = {
                metric: (std, entry.get("n", 2)) for metric, std in (entry.get("spread") or {}).items()
            }
        return spreads

    def check(self, profile: str, dataset_fingerprint: str, key: str, accuracies: list[float]) -> str | None:
        """A one-line failure when the mean of `accuracies` (one per seed) falls below the variant's
        bound (its baseline, its moderated spread, half the budget over the profile's variants), else None."""
        entry = self.entry(profile, dataset_fingerprint, key)
        if entry is None:
            return None
        keys, means, sds, seeds = self._grid(profile)
        spread, df = stats.grid_spreads(sds, seeds)
        i = keys.index(key)
        false_alarm = stats.per_variant_false_alarm(GUARD_BUDGET / 2, len(keys))
        mean = statistics.fmean(accuracies)
        bound = stats.guard_bound(means[i], spread[i], max(seeds[i], 1), len(accuracies), false_alarm=false_alarm,
                                  floor=MIN_TOLERANCE, df=df[i])
        if mean < bound:
            return (
                f"{key} regressed: test accuracy {mean:.4f} (n={len(accuracies)}) is below the {profile} baseline "
                f"{entry['mean']:.4f} (n={entry['n']}, spread {spread[i]:.4f} moderated over {len(keys)} variants, df "
                f"{df[i]:.1f}) by {entry['mean'] - mean:.4f} > allowed {entry['mean'] - bound:.4f} (unchanged code "
                f"fails a grid run by chance <= {GUARD_BUDGET:.0%})"
            )
        return None

    def grid_check(self, profile: str, dataset_fingerprint: str, accuracies) -> str | None:
        """A one-line failure when the variants in `accuracies` (variant key -> one value per seed,
        or runs.csv rows) fell as a whole against their baselines (Stouffer's z, half the budget),
        else None. Only variants whose baseline has its own spread (two seeds or more, not all
        equal) count."""
        if isinstance(accuracies, pd.DataFrame):
            accuracies = test_accuracies(accuracies)
        recorded = self.profiles.get(profile)
        if not recorded or recorded.get("dataset_fingerprint") != dataset_fingerprint:
            return None
        entries = recorded["variants"]
        keys = [k for k, values in accuracies.items() if values and k in entries and entries[k]["n"] > 1
                and (entries[k]["std"] or 0) > 0]
        if len(keys) < 2:
            return None
        new = [statistics.fmean(accuracies[k]) for k in keys]
        n_new = [len(accuracies[k]) for k in keys]
        column = {name: [entries[k][name] for k in keys] for name in ("mean", "std", "n")}
        z, p = stats.grid_shift(new, n_new, column["mean"], column["std"], column["n"], np.subtract(column["n"], 1))
        if p <= GUARD_BUDGET / 2:
            drop = float(np.mean(np.subtract(column["mean"], new)))
            return (f"the {profile} grid regressed as a whole: {len(keys)} variants fell by {drop:.4f} on average "
                    f"against the baseline (Stouffer's z {z:.2f}, p {p:.2g} <= {GUARD_BUDGET / 2:g}): a change that "
                    "lowers accuracy broadly, below any one variant's bound")
        return None

    def _grid(self, profile: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """The profile's variant keys, baseline means, stds (NaN for one seed) and seeds."""
        entries = self.profiles[profile]["variants"]
        keys = list(entries)
        means = np.array([entries[k]["mean"] for k in keys], dtype=float)
        sds = np.array([np.nan if entries[k]["std"] is None else entries[k]["std"] for k in keys], dtype=float)
        return keys, means, sds, np.array([entries[k]["n"] for k in keys], dtype=float)

    def update(self, profile: str, dataset: str, dataset_fingerprint: str, accuracies: dict[str, list[float]]) -> None:
        """Set this profile's entries for the variants in `accuracies` (variant key -> one value per
        seed) and save. Its other variants stay, unless the data changed: then none of them holds."""
        earlier = self.profiles.get(profile, {})
        variants = (
            dict(earlier.get("variants", {})) if earlier.get("dataset_fingerprint") == dataset_fingerprint else {}
        )
        for key, values in sorted(accuracies.items()):
            mean, std = mean_std(values)
            variants[key] = {"mean": round(mean, 5), "std": None if std is None else round(std, 5), "n": len(values)}
        self.profiles[profile] = {
            "dataset": dataset,
            "dataset_fingerprint": dataset_fingerprint,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "variants": dict(sorted(variants.items())),
        }
        write_json(self.path, self.profiles)

    def update_from_runs(self, profile: str, dataset: str, dataset_fingerprint: str, runs: pd.DataFrame,
                         versions: dict[str, str]) -> None:
        """Set this profile's entries from `runs` (runs.csv rows: what one session ran), with the seed
        std of each metric declared baseline_spread (for one-seed judgements) and the versions they
        were measured with (for the drift warning), and save."""
        accuracies, spreads = test_accuracies(runs), {}
        tracked = [m for m in baseline_spread_metrics() if m in runs.columns]
        for (axis, variant, device), group in runs.groupby(["axis", "variant", "device"], sort=False):
            spreads[variant_key(device, axis, variant)] = {m: float(group[m].std()) for m in tracked if len(group) > 1}
        self.update(profile, dataset, dataset_fingerprint, accuracies)
        self.profiles[profile]["versions"] = versions
        for key, spread in spreads.items():
            self.profiles[profile]["variants"][key]["spread"] = {k: round(v, 6) for k, v in spread.items()}
        write_json(self.path, self.profiles)
