"""A variant that chooses one config field (its learning rate) on the validation split before its
measured seeds train.

Each candidate value trains one run on TUNING_SEED, a seed no measured run uses, so the choice is
not fitted to the measured runs' own noise; the candidate with the best validation accuracy after
the last epoch wins (a lower validation loss breaks a tie; a diverged candidate never wins). The
test set plays no part: it is read once per run, at the end, as ever. The measured seeds then
train at the chosen value, and their rows say what was chosen and from what.
"""

from __future__ import annotations

import math

TUNING_SEED = 10_000  # no measured run uses it: seeds run 0..n-1


def choose(field: str, candidates: dict, records: dict) -> tuple[object, str]:
    """(the chosen value, one line saying how): `records[value]` is each candidate's stored run.
    Raises ValueError when every candidate diverged."""
    scored = {}
    for value in candidates:
        record = records[value]
        history = record.get("history") or {}
        accuracy = (history.get("val_accuracy") or [math.nan])[-1]
        loss = (history.get("val_loss") or [math.nan])[-1]
        if record.get("status") == "ok" and accuracy is not None and math.isfinite(accuracy):
            scored[value] = (accuracy, -loss if loss is not None and math.isfinite(loss) else -math.inf)
    if not scored:
        raise ValueError(f"every {field} candidate diverged ({', '.join(map(str, candidates))}); "
                         "give candidates that train")
    best = max(scored, key=lambda value: scored[value])  # the first listed wins an exact tie
    parts = [f"{value}: {scored[value][0]:.4f}" if value in scored else f"{value}: diverged" for value in candidates]
    ordered = sorted(candidates)
    edge = "; the edge of its candidates: the best may lie beyond" if best in (ordered[0], ordered[-1]) else ""
    return best, (f"{field} {best} chosen on the validation split (validation accuracy at {', '.join(parts)}; "
                  f"seed {TUNING_SEED}){edge}")
