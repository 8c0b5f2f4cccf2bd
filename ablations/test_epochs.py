"""Epochs: 1, 3, 10: when does more training stop paying, and when does it overfit?"""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("epochs")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_epochs(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_epochs_effects(judge_effects):
    judge_effects(AXIS.name)
