"""The seed planner: from a run's spreads (a pilot's, or a study's), what each claim could see as
the run stands and the seeds a side it needs to show its smallest change that matters with 80%
power, at Holm's first-step level alpha / m for the run's family of m claims (which promises that
power whatever the other claims do; tests/test_stats.py measures it). `cnn plan FOLDER` prints it
and report.md has it as a section.
"""

from __future__ import annotations

import pandas as pd

from cnn.results import stats
from cnn.results.format import change
from cnn.results.judge import POWER, Judgement

COLUMNS = ["axis", "device", "claim", "verdict", "n_low", "n_high", "min_effect", "smallest_detectable",
           "seeds_needed"]


def plan_frame(judgements: list[Judgement]) -> pd.DataFrame:
    """One row per stochastic claim that was compared (k of n claims and exact ones have no plan)."""
    rows = [{"axis": j.axis, "device": j.device, "claim": j.claim, "verdict": j.verdict, "n_low": j.n_low,
             "n_high": j.n_high, "min_effect": j.min_effect, "smallest_detectable": j.smallest_detectable,
             "seeds_needed": j.seeds_needed, "metric": j.metric, "scale": j.scale}
            for j in judgements if j.test and j.test not in (stats.EXACT, stats.FISHER)]
    return pd.DataFrame(rows, columns=[*COLUMNS, "metric", "scale"])


def plan_markdown(judgements: list[Judgement]) -> str:
    """The planner's table in markdown, with a line on what it assumes."""
    frame = plan_frame(judgements)
    family = max((j.family for j in judgements), default=0)
    if frame.empty:
        return "No claim of this run was compared by a t test, so there is nothing to plan from."
    several = frame["device"].nunique() > 1
    lines = [
        f"For each claim: the smallest change this run shows with {POWER:.0%} power as it stands, and the seeds a "
        f"side its smallest change that matters (min effect) needs for {POWER:.0%} power, from the spreads measured "
        f"here, at alpha {stats.ALPHA:g} / {family} (Holm's first step over this run's {family} claims). A claim "
        "whose true change is larger needs fewer seeds; a spread measured on 2-3 seeds is itself rough, so plan "
        "with some margin.",
        "",
        f"| axis | claim | verdict | n a side | min effect | seen with {POWER:.0%} power | seeds a side needed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in frame.itertuples():
        axis = f"{r.axis} ({r.device})" if several else r.axis
        needed = "over 100,000" if pd.isna(r.seeds_needed) else f"{int(r.seeds_needed)}"
        seen = change(r.metric, r.smallest_detectable, r.scale, sign=False)
        if r.scale == "log" and not pd.isna(r.smallest_detectable) and r.smallest_detectable > 1000:
            seen = "over 1000x"
        lines.append(f"| {axis} | {r.claim} | {r.verdict} | {r.n_high} vs {r.n_low} | "
                     f"{change(r.metric, r.min_effect, r.scale, sign=False)} | {seen} | {needed} |")
    return "\n".join(lines)
