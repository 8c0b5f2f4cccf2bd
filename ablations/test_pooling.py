"""Pooling: size (none, 2x2, 3x3), type (max, average) and padding (valid, same)."""

import pytest

from cnn.grid import AXES

AXIS = AXES.get("pooling")


@pytest.mark.parametrize("variant", AXIS.ids)
def test_pooling(variant, run_variant):
    run_variant(AXIS.name, variant)


def test_pooling_effects(judge_effects):
    judge_effects(AXIS.name)
