"""Fixtures every axis module uses: run a variant, judge an axis' effects."""

import pytest

from cnn.suite import EFFECTS_PROPERTY, HISTORY_PROPERTY, ROWS_PROPERTY


@pytest.fixture
def run_variant(ablation, device, benchmark, request):
    """Train (or find in the cache) one variant for every seed, record it, and fail on a regression."""

    def run(axis: str, variant: str) -> list[dict]:
        rows, history = ablation.run(axis, variant, device, benchmark)
        request.node.user_properties.append((ROWS_PROPERTY, rows))
        request.node.user_properties.append((HISTORY_PROPERTY, history))
        problems = ablation.failures(axis, variant, device, rows)
        assert not problems, "\n".join(problems)
        return rows

    return run


@pytest.fixture
def judge_effects(ablation, device, request):
    """State the axis' effects where the seeds show them; fail where the seeds show the opposite."""

    def judge(axis: str) -> None:
        outcomes = ablation.effects(axis, device)
        if outcomes is None:
            pytest.skip(f"not every {axis} variant has run on {device} yet (deselected, or on another xdist worker)")
        request.node.user_properties.append((EFFECTS_PROPERTY, [
            {"axis": axis, "device": device, "metric": o.effect.metric, "claim": o.effect.claim,
             "verdict": o.verdict, "text": o.text} for o in outcomes
        ]))
        contradicted = [o.text for o in outcomes if o.verdict == "contradicted"]
        assert not contradicted, "\n".join(contradicted)

    return judge
