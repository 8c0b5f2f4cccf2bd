"""cnn/ablate/choice.py: a field chosen on the validation split, never on the test set."""

import pytest

from cnn.ablate.choice import TUNING_SEED, choose


def run(val_accuracy, val_loss=0.1, status="ok", test_accuracy=0.5):
    return {"status": status, "test_accuracy": test_accuracy,
            "history": {"val_accuracy": [0.1, val_accuracy], "val_loss": [2.0, val_loss]}}


def test_the_best_last_validation_accuracy_wins_whatever_the_test_set_says():
    records = {0.001: run(0.95, test_accuracy=0.99), 0.003: run(0.97, test_accuracy=0.90), 0.01: run(0.96)}
    value, how = choose("learning_rate", (0.001, 0.003, 0.01), records)
    assert value == 0.003
    assert how == ("learning_rate 0.003 chosen on the validation split (validation accuracy at 0.001: 0.9500, "
                   f"0.003: 0.9700, 0.01: 0.9600; seed {TUNING_SEED})")


def test_a_tie_goes_to_the_lower_validation_loss_and_a_diverged_candidate_never_wins():
    records = {1: run(0.9, val_loss=0.3), 2: run(0.9, val_loss=0.2), 3: run(0.99, status="diverged")}
    value, how = choose("learning_rate", (1, 2, 3), records)
    assert value == 2 and "3: diverged" in how and "edge" not in how
    assert choose("learning_rate", (1, 2), {1: run(0.8), 2: run(0.9)})[1].endswith(
        "; the edge of its candidates: the best may lie beyond")
    with pytest.raises(ValueError, match="every learning_rate candidate diverged"):
        choose("learning_rate", (3,), {3: run(0.99, status="diverged")})
