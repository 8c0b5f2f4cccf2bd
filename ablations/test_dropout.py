"""Dropout: does it narrow the overfitting gap, and what does it cost in test accuracy?"""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("dropout")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_dropout(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_dropout_effects(judge_effects):
    judge_effects(AXIS.name)
