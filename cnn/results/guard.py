"""The regression guard.

A variant regresses when its mean test accuracy falls below the committed baseline by more than
the seed spread allows. One-sided: improving never fails. (Effects are judged in cnn.results.judge.)
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from cnn.files import read_json, write_json
from cnn.results.metrics import baseline_spread_metrics

SPREAD_FACTOR = 3.0  # a drop of 3 standard errors happens by chance about once in 700 checks
MIN_TOLERANCE = 0.015  # accuracy points; keeps a lucky tiny seed spread from making the guard flaky
LEARNED_FACTOR = 3.0  # "learned" means test accuracy at least 3x chance


def variant_key(device: str, axis: str, variant: str) -> str:
    return f"{device}/{axis}[{variant}]"


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
        """(device, axis, variant) -> {metric: seed std} recorded for this profile on the same data."""
        recorded = self.profiles.get(profile)
        if not recorded or recorded.get("dataset_fingerprint") != dataset_fingerprint:
            return {}
        spreads = {}
        for key, entry in recorded["variants"].items():
            device, _, rest = key.partition("/")
            axis, _, variant = rest.partition("[")
            spreads[(device, axis, variant.removesuffix("]"))] = entry.get("spread") or {}
        return spreads

    def check(self, profile: str, dataset_fingerprint: str, key: str, accuracies: list[float]) -> str | None:
        """A one-line failure when `accuracies` (one per seed) fall below the baseline, else None."""
        entry = self.entry(profile, dataset_fingerprint, key)
        if entry is None:
            return None
        mean, _ = mean_std(accuracies)
        spread = entry["std"] or 0.0
        allowed = max(SPREAD_FACTOR * spread * math.sqrt(1 / len(accuracies) + 1 / entry["n"]), MIN_TOLERANCE)
        if mean < entry["mean"] - allowed:
            return (
                f"{key} regressed: test accuracy {mean:.4f} (n={len(accuracies)}) is below the {profile} baseline "
                f"{entry['mean']:.4f} +/- {spread:.4f} (n={entry['n']}) by {entry['mean'] - mean:.4f} "
                f"> allowed {allowed:.4f}"
            )
        return None

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
        accuracies, spreads = {}, {}
        tracked = [m for m in baseline_spread_metrics() if m in runs.columns]
        for (axis, variant, device), group in runs.groupby(["axis", "variant", "device"], sort=False):
            key = variant_key(device, axis, variant)
            accuracies[key] = group["test_accuracy"].dropna().tolist()
            spreads[key] = {m: float(group[m].std()) for m in tracked if len(group) > 1}
        self.update(profile, dataset, dataset_fingerprint, accuracies)
        self.profiles[profile]["versions"] = versions
        for key, spread in spreads.items():
            self.profiles[profile]["variants"][key]["spread"] = {k: round(v, 6) for k, v in spread.items()}
        write_json(self.path, self.profiles)
